"""Bisecting a refused batch finds exactly the records refused on their own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_engineering.ingestion.isolate import isolate


class Refused(Exception):
    pass


@given(n=st.integers(0, 300), data=st.data())
def test_bisecting_finds_exactly_the_refused_records(n, data):
    bad = set(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=min(n, 8)))) if n else set()
    tries = []

    def attempt(rows: list[int]) -> None:
        tries.append(len(rows))
        if bad & set(rows):
            raise Refused(f"row {min(bad & set(rows))}")

    found = isolate(n, attempt, (Refused,))
    assert [row for row, _ in found] == sorted(bad)
    assert all(reason == f"Refused: row {row}" for row, reason in found)
    assert len(tries) <= 1 + 2 * len(bad) * max(1, n.bit_length())  # k·log n, not n


def test_a_batch_that_only_fails_whole_yields_nothing():
    def attempt(rows: list[int]) -> None:
        if len(rows) > 3:
            raise Refused("too many together")

    assert isolate(10, attempt, (Refused,)) == []


def test_other_errors_are_not_taken_for_bad_records():
    def attempt(rows: list[int]) -> None:
        raise KeyError("a bug, not a record")

    with pytest.raises(KeyError):  # a bug surfaces instead of dead-lettering the batch
        isolate(4, attempt, (Refused,))
