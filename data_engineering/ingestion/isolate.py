"""Find the records a store refuses by bisecting their batch.

A batch that fails as a whole is split in halves, each half tried on its own, until the failures are
single records: k bad records among n cost about 2·k·log2(n) tries, and a batch that only fails
whole (no record alone fails) yields nothing, so the caller's retry raises the real error."""

from __future__ import annotations

from collections.abc import Callable


def isolate(n: int, attempt: Callable[[list[int]], None],
            errors: tuple[type[BaseException], ...]) -> list[tuple[int, str]]:
    """The positions in `range(n)` that `attempt` refuses on their own, each with the error text."""
    bad: list[tuple[int, str]] = []
    pending = [list(range(n))] if n else []
    while pending:
        rows = pending.pop()
        try:
            attempt(rows)
        except errors as exc:
            if len(rows) == 1:
                bad.append((rows[0], f"{type(exc).__name__}: {exc}".strip()))
            else:
                half = len(rows) // 2
                pending.extend([rows[half:], rows[:half]])
    return sorted(bad)
