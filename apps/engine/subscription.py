"""A subscriber's view of one run: events in seq order, from ``after_seq`` to the terminal one.

Live events arrive through a queue (in-process from the run itself, or from the
bus for runs on other workers). Anything missing — a gap, a dropped doorbell, a
quiet period — is re-read from Postgres, which is the source of truth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from apps.engine import store
from apps.engine.db import run_db
from apps.engine.events import Event, is_terminal

if TYPE_CHECKING:
    from apps.engine.runtime import ActiveRun


class Subscription:
    def __init__(self, run_id: str, after_seq: int, *, poll_s: float, on_close: Callable[[Subscription], None]) -> None:
        self.run_id = run_id
        self.last = max(0, after_seq)
        self.done = False
        self.poll_s = poll_s
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.ahead: dict[int, Event] = {}
        self.local: ActiveRun | None = None
        self._on_close = on_close
        self._closed = False
        # Counters for tests and diagnostics.
        self.refills = 0

    # --- feeding (called by the run or the bus) -----------------------------
    def feed(self, event: Event) -> None:
        if _same_loop(self.loop):
            self.queue.put_nowait(event)
        else:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    def preload(self, events: list[Event]) -> None:
        for event in events:
            if event["seq"] > self.last:
                self.ahead[event["seq"]] = event

    # --- consuming ------------------------------------------------------------
    def _pop_ready(self) -> Event | None:
        event = self.ahead.pop(self.last + 1, None)
        if event is None:
            return None
        self.last = event["seq"]
        if is_terminal(event):
            self.done = True
        return event

    async def refill(self) -> None:
        self.refills += 1
        while True:
            events = await run_db(store.events_after, run_id=self.run_id, after_seq=self.last)
            self.preload(events)
            if len(events) < 500:
                return
            # Long backlog: hand out what we have before reading the next page.
            if self.last + 1 in self.ahead:
                return

    async def next(self, timeout: float) -> Event | None:
        """The next event in order, or None when ``timeout`` passes with nothing new.

        Raises:
            StopAsyncIteration: after the terminal event was returned.
        """
        deadline = time.monotonic() + timeout
        while True:
            ready = self._pop_ready()
            if ready is not None:
                return ready
            if self.done:
                raise StopAsyncIteration
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            wait = remaining if self.local is not None else min(remaining, self.poll_s)
            try:
                if self.queue.empty():
                    async with asyncio.timeout(wait):
                        event = await self.queue.get()
                else:
                    event = self.queue.get_nowait()
            except TimeoutError:
                if self.local is None:
                    await self.refill()
                continue
            if event["seq"] > self.last:
                self.ahead[event["seq"]] = event
            while not self.queue.empty():
                extra = self.queue.get_nowait()
                if extra["seq"] > self.last:
                    self.ahead[extra["seq"]] = extra
            if self.ahead and self.last + 1 not in self.ahead and self.local is None:
                await self.refill()  # a gap: the doorbell dropped something

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        while True:
            event = await self.next(timeout=3600)
            if event is not None:
                return event

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._on_close(self)


def _same_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
