"""A subscriber's view of one run: events in seq order, from ``after_seq`` to the terminal one.

Live events are pushed in (by the run itself when it runs on this event loop, from
another thread or from the bus otherwise) into a dict keyed by seq; the reader waits
on one future per wait. Anything missing — a gap, a dropped doorbell, a quiet period
— is re-read from Postgres, which is the source of truth.

This is the per-token path of every stream, so it avoids per-event allocations beyond
that future: no queue, and no timer per wait — one timer handle serves many waits
(a wait with a later deadline keeps the earlier timer and goes back to sleep when it
fires early).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from apps.engine import store
from apps.engine.db import run_db
from apps.engine.events import TERMINAL_TYPES, Event

if TYPE_CHECKING:
    from apps.engine.runtime import ActiveRun

_PAGE = 500  # store.events_after's page size


class Subscription:
    def __init__(self, run_id: str, after_seq: int, *, poll_s: float, on_close: Callable[[Subscription], None]) -> None:
        self.run_id = run_id
        self.last = max(0, after_seq)
        self.done = False
        self.poll_s = poll_s
        self.loop = asyncio.get_running_loop()
        self.ahead: dict[int, Event] = {}
        self.local: ActiveRun | None = None
        self._on_close = on_close
        self._closed = False
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._fed = False
        self._gap_at = -1  # the position a gap was last refilled at
        self._poll_at = self.loop.time() + poll_s
        # Counters for tests and diagnostics.
        self.refills = 0

    # --- feeding (called by the run or the bus) -----------------------------
    def feed(self, event: Event) -> None:
        """Hand over a live event; safe from any thread."""
        if _same_loop(self.loop):
            self.push(event)
        else:
            self.loop.call_soon_threadsafe(self.push, event)

    def push(self, event: Event) -> None:
        """``feed`` on the subscription's own loop (the run's fast path)."""
        if event["seq"] > self.last:
            self.ahead[event["seq"]] = event
        self._fed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def preload(self, events: list[Event]) -> None:
        for event in events:
            if event["seq"] > self.last:
                self.ahead[event["seq"]] = event

    # --- consuming ------------------------------------------------------------
    def next_ready(self) -> Event | None:
        """The next event if it is already here (no waiting), else None."""
        event = self.ahead.pop(self.last + 1, None)
        if event is None:
            return None
        self.last = event["seq"]
        if event["type"] in TERMINAL_TYPES:
            self.done = True
            self._cancel_timer()  # nothing more to wait for
        return event

    def has_gap(self) -> bool:
        """Events after a missing one are here: the missing one must come from Postgres."""
        return bool(self.ahead) and self.last + 1 not in self.ahead

    async def refill(self) -> None:
        self.refills += 1
        while True:
            events = await run_db(store.events_after, run_id=self.run_id, after_seq=self.last)
            self.preload(events)
            if len(events) < _PAGE:
                break
            # Long backlog: hand out what we have before reading the next page.
            if self.last + 1 in self.ahead:
                break
        self._poll_at = self.loop.time() + self.poll_s

    async def next(self, timeout: float) -> Event | None:
        """The next event in order, or None when ``timeout`` passes with nothing new.

        Raises:
            StopAsyncIteration: after the terminal event was returned.
        """
        loop = self.loop
        deadline = loop.time() + timeout
        while True:
            event = self.next_ready()
            if event is not None:
                if self.local is None:
                    self._poll_at = loop.time() + self.poll_s
                return event
            if self.done:
                raise StopAsyncIteration
            if self.has_gap() and self._gap_at != self.last:
                # Missing events are in Postgres (a dropped doorbell, or the start of a
                # long run that the run's in-memory log no longer holds). Once per position;
                # without progress the next push or poll tries again.
                self._gap_at = self.last
                await self.refill()
                continue
            now = loop.time()
            if now >= deadline:
                return None
            if self.local is None and now >= self._poll_at:
                await self.refill()  # a quiet period: the bus may have dropped something
                continue
            self._fed = False
            await self._wait(deadline if self.local is not None else min(deadline, self._poll_at))
            if self._fed:
                self._gap_at = -1

    async def _wait(self, until: float) -> None:
        """Sleep until fed or until ``until`` (or earlier: callers re-check the time)."""
        if until < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(until, self._on_timer)
            self._timer_at = until
        waiter = self.loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while True:
            event = await self.next(timeout=3600)
            if event is not None:
                return event

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = math.inf

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._cancel_timer()
            self._on_close(self)


def _same_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
