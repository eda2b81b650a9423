"""Child processes in process groups of their own, a state file naming them, and a shutdown that
leaves nothing behind: `lascopf down` from another shell reads the file and stops every group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

STATE_FILE = "up.json"


def alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, timeout_s: float = 30) -> None:
    """SIGTERM to the whole group (a service's own workers included), SIGKILL what outlives it."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _reap(pgid)
            if not alive(pgid):
                return
            time.sleep(0.1)


def _reap(pgid: int) -> None:
    """A child of ours lingers as a zombie (still in its group) until waited for."""
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass


@dataclass
class Supervisor:
    """Starts services in order and stops them in reverse; the state file always names them all."""

    state_dir: Path
    logs: Path = field(init=False)
    groups: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.state_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def state_path(self) -> Path:
        return self.state_dir / STATE_FILE

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        with self.log_path(name).open("ab") as log:
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        self.adopt(name, proc)
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str], timeout_s: float = 900) -> None:
        """A one-off step (migrations, the history landing), logged like a service; fails loudly."""
        proc = self.spawn(name, argv, env)
        try:
            code = proc.wait(timeout=timeout_s)
        finally:
            self.groups.pop(name, None)
            self.procs.pop(name, None)
            self._write()
        if code:
            raise RuntimeError(f"{name} exited with {code}; see {self.log_path(name)}")

    def adopt(self, name: str, proc: subprocess.Popen) -> None:
        """A process started elsewhere with start_new_session=True (its pid is its group id)."""
        self.groups[name] = proc.pid
        self.procs[name] = proc
        self._write()

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop_all(self) -> None:
        for name in reversed(list(self.groups)):
            stop_group(self.groups.pop(name))
            self.procs.pop(name, None)
            self._write()
        self.state_path.unlink(missing_ok=True)

    def _write(self) -> None:
        self.state_path.write_text(json.dumps({"supervisor": os.getpid(), "groups": self.groups}))


def down(state_dir: Path, timeout_s: float = 120) -> list[str]:
    """Ask the running `lascopf up` to stop (it stops its children in order); whatever group is
    still alive after that, or when the supervisor is gone, is stopped here. Returns the groups
    this call had to stop itself."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return []
    state = json.loads(path.read_text())
    supervisor = state["supervisor"]
    try:
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _pid_alive(supervisor):
            time.sleep(0.2)
    except ProcessLookupError:
        pass
    left = {name: pgid for name, pgid in state["groups"].items() if alive(pgid)}
    for name in reversed(list(left)):
        stop_group(left[name])
    path.unlink(missing_ok=True)
    return list(left)


def _pid_alive(pid: int) -> bool:
    """Running, not a zombie: an exited `lascopf up` whose parent has not reaped it yet is done."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
