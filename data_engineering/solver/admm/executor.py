"""Where the subproblems run: in this process, in worker processes, or on a Dask cluster.

Each worker owns a shard of the subproblems (their HiGHS models stay warm there), so an iteration
ships only prox targets out and copies back. Keys are assigned to the least-loaded shard (load: intervals held).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

from data_engineering.solver.admm.subproblem import Report, Shard, SubproblemSpec
from data_engineering.solver.model import Model
from data_engineering.solver.outage_screen import set_screen_threads
from data_engineering.solver.security import Screening

Key = tuple[int, int]


class Executor(Protocol):
    def add(self, specs: list[SubproblemSpec]) -> None: ...
    def solve(self, targets: dict[Key, np.ndarray | None], rho: float) -> dict[Key, np.ndarray]: ...
    def reports(self) -> dict[Key, Report]: ...
    def close(self) -> None: ...


class _Sharded:
    """Bookkeeping common to executors with several shards."""

    def __init__(self, n: int) -> None:
        self.owner: dict[Key, int] = {}
        self.load = [0] * n

    def assign(self, specs: Iterable[SubproblemSpec]) -> list[list[SubproblemSpec]]:
        batches: list[list[SubproblemSpec]] = [[] for _ in self.load]
        for spec in specs:
            i = min(range(len(self.load)), key=self.load.__getitem__)
            self.owner[spec.key] = i
            self.load[i] += spec.n
            batches[i].append(spec)
        return batches

    def split(self, targets: dict[Key, np.ndarray | None]) -> list[dict[Key, np.ndarray | None]]:
        parts: list[dict[Key, np.ndarray | None]] = [{} for _ in self.load]
        for key, v in targets.items():
            parts[self.owner[key]][key] = v
        return parts

    def _gather(self, calls: list[tuple[str, tuple] | None]) -> list:
        """Run `method(*args)` on each shard that has a call, in parallel; results in shard order."""
        raise NotImplementedError

    def add(self, specs: list[SubproblemSpec]) -> None:
        self._gather([("add", (batch,)) if batch else None for batch in self.assign(specs)])

    def solve(self, targets: dict[Key, np.ndarray | None], rho: float) -> dict[Key, np.ndarray]:
        return self._merge(self._gather([("solve", (part, rho)) if part else None for part in self.split(targets)]))

    def reports(self) -> dict[Key, Report]:
        return self._merge(self._gather([("reports", ()) if n else None for n in self.load]))

    @staticmethod
    def _merge(parts: list[dict | None]) -> dict:
        out: dict = {}
        for part in parts:
            out.update(part or {})
        return out


class InProcess:
    def __init__(self, model: Model, screening: Screening) -> None:
        self.shard = Shard(model, screening)

    def add(self, specs: list[SubproblemSpec]) -> None:
        self.shard.add(specs)

    def solve(self, targets: dict[Key, np.ndarray | None], rho: float) -> dict[Key, np.ndarray]:
        return self.shard.solve(targets, rho)

    def reports(self) -> dict[Key, Report]:
        return self.shard.reports()

    def close(self) -> None:
        pass


def _serve(conn, model: Model, screening: Screening) -> None:  # noqa: ANN001
    """One worker process: one thread for BLAS and the compiled screen, so N workers use N cores and
    do not oversubscribe them (two BLAS threads per worker made small dense solves ~100× slower)."""
    threadpool_limits(1)
    set_screen_threads(1)
    shard = Shard(model, screening)
    while True:
        command, args = conn.recv()
        if command == "close":
            return
        try:
            conn.send(("ok", getattr(shard, command)(*args)))
        except Exception as exc:  # noqa: BLE001 - handed to the coordinator, which raises it
            conn.send(("error", exc))


class ProcessPool(_Sharded):
    """Worker processes, each holding a shard; one message per worker per iteration."""

    def __init__(self, model: Model, screening: Screening, workers: int, stall_s: float = 120.0) -> None:
        super().__init__(workers)
        self.stall_s = stall_s
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.conns, self.procs = [], []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, model, screening), daemon=True)
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)
        self.watched = [psutil.Process(proc.pid) for proc in self.procs]  # their CPU time, read while waiting

    def _gather(self, calls: list[tuple[str, tuple] | None]) -> list:
        for i, (conn, call) in enumerate(zip(self.conns, calls, strict=True)):
            if call is not None:
                self._talk(i, conn.send, call)
        results = []
        for i, (conn, call) in enumerate(zip(self.conns, calls, strict=True)):
            if call is None:
                results.append(None)
                continue
            self._await(i)
            status, value = self._talk(i, conn.recv)
            if status == "error":
                raise value
            results.append(value)
        return results

    def _await(self, i: int) -> None:
        """Wait for worker i's reply while it makes progress. A busy worker uses CPU time all along (it
        has nothing else to wait on); one that uses none for `stall_s` is deadlocked or stopped, and
        waiting longer would hang the solve with it. A dead worker's pipe reads as ready: `_talk` says so."""
        proc = self.watched[i]
        last, since = -1.0, time.monotonic()
        while not self.conns[i].poll(min(5.0, self.stall_s / 4)):
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                return
            if (used := times.user + times.system) > last:
                last, since = used, time.monotonic()
            elif time.monotonic() - since > self.stall_s:
                self.procs[i].kill()
                self.procs[i].join()
                raise WorkerLost(f"ADMM worker process {i} (pid {proc.pid}) is hung: it used no CPU time for "
                                 f"{self.stall_s:g} s with a call outstanding (worker_stall_s); it was killed")

    def _talk(self, i: int, method, *args):  # noqa: ANN001, ANN202
        """A pipe call to worker i; a worker that died (killed, out of memory) is said as such."""
        try:
            return method(*args)
        except (EOFError, OSError) as exc:
            proc = self.procs[i]
            proc.join(timeout=1)
            raise WorkerLost(f"ADMM worker process {i} (pid {proc.pid}) is gone, exit code {proc.exitcode}: the "
                             "solve cannot go on without its subproblems") from exc

    def close(self) -> None:
        """Stop every worker, the dead ones' pipes notwithstanding: none is left behind."""
        for conn in self.conns:
            try:
                conn.send(("close", ()))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()


class WorkerLost(RuntimeError):
    """A worker process died or hung mid-solve: nothing is known about the problem; the run may be retried."""


class DaskActors(_Sharded):
    """One `Shard` actor per Dask worker: the subproblems scale past one machine."""

    def __init__(self, model: Model, screening: Screening, address: str | object) -> None:
        from distributed import Client

        self.client = address if hasattr(address, "submit") else Client(address)
        self._own_client = self.client is not address
        workers = list(self.client.scheduler_info()["workers"])
        super().__init__(len(workers))
        model_future = self.client.scatter(model, broadcast=True)
        self.actors = [self.client.submit(Shard, model_future, screening, actor=True, workers=[w]).result()
                       for w in workers]

    def _gather(self, calls: list[tuple[str, tuple] | None]) -> list:
        futures = [None if call is None else getattr(actor, call[0])(*call[1])
                   for actor, call in zip(self.actors, calls, strict=True)]
        return [None if f is None else f.result() for f in futures]

    def close(self) -> None:
        self.actors.clear()
        if self._own_client:
            self.client.close()


def make_executor(model: Model, screening: Screening, workers: int = 1, dask_address: str | object | None = None,
                  stall_s: float = 120.0) -> Executor:
    if dask_address is not None:
        return DaskActors(model, screening, dask_address)
    if workers > 1:
        return ProcessPool(model, screening, workers, stall_s)
    return InProcess(model, screening)
