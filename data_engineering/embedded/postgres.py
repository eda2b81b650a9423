"""A PostgreSQL server from Debian's server binaries, in a data directory of our own.

`initdb` refuses to run as root, and CI and sessions run as root: there the server runs as the
`postgres` system user, with its data directory owned by that user.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from data_engineering.embedded.process import LOOPBACK, free_port, stop_process, wait_for_port


def find_bin_dir() -> Path:
    for candidate in [os.environ.get("PG_BIN_DIR"), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise FileNotFoundError("PostgreSQL server binaries not found: install Debian's `postgresql` or set PG_BIN_DIR")


class PostgresServer:
    """Start with `start()`, stop with `stop()`; `url(db)` gives a DSN on the loopback port."""

    def __init__(self, data_dir: Path, port: int | None = None, durable: bool = True,
                 ephemeral: bool = False) -> None:
        self.port = port or free_port()
        self.durable = durable
        self.ephemeral = ephemeral  # remove the cluster on stop (tests, benchmarks)
        self.bin = find_bin_dir()
        self.proc: subprocess.Popen | None = None
        self._as_postgres = os.geteuid() == 0
        self.data_dir = self._reachable(Path(data_dir).resolve())
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    def _reachable(self, wanted: Path) -> Path:
        """As root, the server runs as `postgres`, which must be able to reach the directory. When an
        ancestor is private (a home directory, pytest's temp tree), use a stable place under
        /var/tmp instead of loosening someone else's permissions."""
        if not self._as_postgres:
            return wanted
        parent = wanted.parent
        parent.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(parent)]).returncode == 0:
            return wanted
        digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
        base = Path("/var/tmp/lascopf-postgres")
        base.mkdir(mode=0o711, exist_ok=True)
        return base / f"{wanted.name}-{digest}"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)

    def _own(self, path: Path) -> None:
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(path, user.pw_uid, user.pw_gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def start(self, timeout_s: float = 60) -> PostgresServer:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not self.initialised():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._own(self.data_dir)
            done = subprocess.run(
                self._cmd(str(self.bin / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                          "--encoding=UTF8", "--locale=C.UTF-8"),
                capture_output=True, text=True,
            )
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        settings = ["-c", f"listen_addresses={LOOPBACK}", "-p", str(self.port), "-k", str(self.data_dir),
                    "-c", "max_connections=200", "-c", "shared_buffers=256MB", "-c", "max_wal_size=2GB"]
        if not self.durable:  # tests only: no fsync, nothing survives a machine crash
            settings += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self._own(self.log_path)
        self.proc = subprocess.Popen(self._cmd(str(self.bin / "postgres"), "-D", str(self.data_dir), *settings),
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, timeout_s, self.proc, self.log_path)
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        """pg_isready answers 'rejecting' while the server starts up: ask until it accepts."""
        deadline = time.monotonic() + timeout_s
        while True:
            ready = subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port)])
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise RuntimeError(f"PostgreSQL not ready after {timeout_s:.0f} s; see {self.log_path}")
            time.sleep(0.1)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{LOOPBACK}:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def crash_restart(self, down_s: float = 0.0, timeout_s: float = 60) -> None:
        """Stop the server the way a crash does (immediate shutdown: no checkpoint, clients cut),
        stay down `down_s`, and start it again on the same port: recovery replays the WAL."""
        subprocess.run(self._cmd(str(self.bin / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"),
                       capture_output=True, check=True)
        if self.proc is not None:
            self.proc.wait(timeout=timeout_s)
        time.sleep(down_s)
        self.start(timeout_s)

    def stop(self) -> None:
        stop_process(self.proc, timeout_s=30)
        self.proc = None
        if self.ephemeral:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_path.unlink(missing_ok=True)
