"""Live readings per pole, polled once however many clients watch the pole: a feed starts with its
first subscriber, stops with its last, and hands each batch (serialised once) to every subscriber's
bounded queue. A subscriber too slow to keep up is dropped rather than buffered without bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from anyio import CapacityLimiter, to_thread
from psycopg_pool import ConnectionPool

from data_engineering.api import queries

log = logging.getLogger(__name__)
PAGE_ROWS = 1_000
QUEUE_BATCHES = 64
Cursor = tuple[datetime, str]


class TooSlow(Exception):
    """The subscriber's queue overflowed; it was dropped from the feed."""


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_BATCHES)

    def offer(self, batch: str | None) -> bool:
        try:
            self.queue.put_nowait(batch)
            return True
        except asyncio.QueueFull:
            return False

    async def next(self) -> str:
        batch = await self.queue.get()
        if batch is None:
            raise TooSlow
        return batch


class _Feed:
    def __init__(self, pool: ConnectionPool, limiter: CapacityLimiter, pole_id: str, poll_s: float,
                 backlog_s: float) -> None:
        self.pool, self.limiter, self.pole_id, self.poll_s, self.backlog_s = pool, limiter, pole_id, poll_s, backlog_s
        self.members: set[Subscription] = set()
        self.pending: set[Subscription] = set()  # joined, backlog not sent yet
        self.cursor: Cursor | None = None
        self.task: asyncio.Task | None = None

    def _since(self) -> Cursor:
        return datetime.now(UTC) - timedelta(seconds=self.backlog_s), ""

    async def _page(self, after: Cursor, until: Cursor | None = None) -> list[dict]:
        def fetch() -> list[dict]:
            with self.pool.connection() as conn:
                return queries.live_readings(conn, self.pole_id, after, until, PAGE_ROWS)

        return await to_thread.run_sync(fetch, limiter=self.limiter)

    async def run(self) -> None:
        while True:
            try:
                caught_up = await self._step()
            except Exception:  # a database hiccup: keep the feed, try again after a poll interval
                log.exception("live feed of pole %s could not poll", self.pole_id)
                caught_up = True
            if caught_up:
                await asyncio.sleep(self.poll_s)

    async def _step(self) -> bool:
        """Subscribers that joined a running feed first get its backlog up to the feed's cursor;
        then every subscriber gets what came after it. False after a full page (read on at once)."""
        joining = set(self.pending)
        try:
            if self.cursor is None:
                self.cursor = self._since()
            else:
                after = self._since()
                while joining and (rows := await self._page(after, self.cursor)):
                    after = _send(joining, rows)
                    if len(rows) < PAGE_ROWS:
                        break
        finally:
            self.pending -= joining
        targets = self.members - self.pending
        rows = await self._page(self.cursor)
        if rows:
            self.cursor = _send(targets, rows)
        return len(rows) < PAGE_ROWS


def _send(subscribers: set[Subscription], rows: list[dict]) -> Cursor:
    """Each subscriber gets the batch (one JSON text for all); those whose queue is full get the end."""
    text = json.dumps([{**r, "event_ts": r["event_ts"].isoformat()} for r in rows])
    for s in subscribers:
        if not s.offer(text):
            while not s.queue.empty():
                s.queue.get_nowait()
            s.offer(None)
    return rows[-1]["event_ts"], rows[-1]["meter_id"]


class PoleFeeds:
    """`limiter`: the threads that may wait for a pooled connection (not the routes')."""

    def __init__(self, pool: ConnectionPool, limiter: CapacityLimiter, poll_s: float, backlog_s: float) -> None:
        self.pool, self.limiter, self.poll_s, self.backlog_s = pool, limiter, poll_s, backlog_s
        self._feeds: dict[str, _Feed] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, pole_id: str) -> AsyncIterator[Subscription]:
        feed = self._feeds.get(pole_id)
        if feed is None:
            feed = self._feeds[pole_id] = _Feed(self.pool, self.limiter, pole_id, self.poll_s, self.backlog_s)
            feed.task = asyncio.create_task(feed.run(), name=f"feed-{pole_id}")
        subscription = Subscription()
        feed.members.add(subscription)
        feed.pending.add(subscription)
        try:
            yield subscription
        finally:
            feed.members.discard(subscription)
            feed.pending.discard(subscription)
            if not feed.members and self._feeds.get(pole_id) is feed:
                del self._feeds[pole_id]
                feed.task.cancel()

    @property
    def active(self) -> int:
        return len(self._feeds)
