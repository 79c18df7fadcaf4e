"""Per-process state of the engine: the runs this worker executes, subscribers, bus, reaper."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
import weakref
from typing import Any

from django.conf import settings

from apps.engine import store
from apps.engine.bus import Bus, BusMessage, make_bus
from apps.engine.db import write_db
from apps.engine.events import Event, envelope, is_terminal
from apps.engine.subscription import Subscription

logger = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

# Runs executing in this process, whatever event loop they run on.
_local_runs: dict[str, ActiveRun] = {}


class ActiveRun:
    """A run executing in this process: its event log, pending writes and subscribers."""

    def __init__(self, *, run_id: str, chat_id: str, message_id: str, runtime: Runtime) -> None:
        self.run_id = run_id
        self.chat_id = chat_id
        self.message_id = message_id
        self.runtime = runtime
        self.loop = asyncio.get_running_loop()
        self.seq = 1  # seq 1 (run.started) was written with the run
        # Events not yet known to be in Postgres (plus run.started until the first flush):
        # what a subscriber joining on this worker cannot read from the database yet.
        # Persisted events are dropped, so memory does not grow with the answer.
        self.log: list[Event] = []
        self.log_base = 1  # seq of log[0]
        self.pending: list[Event] = []
        self.subscribers: set[Subscription] = set()
        self.task: asyncio.Task[Any] | None = None
        self.stop_reason: str | None = None
        self.finishing = False  # past the point where a stop can change the outcome
        self.text_parts: list[str] = []
        self.text_dirty = False
        self.flush_lock = asyncio.Lock()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_text_flush = self.loop.time()
        # Write transactions of this run, for tests and the benchmark: the set-up
        # transaction (rate count, credit reservation, messages, run) came before us.
        self.db_writes = 1

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def record_started(self, event: Event) -> None:
        self.log.append(event)

    def emit(self, type_: str, payload: dict[str, Any], *, deliver: bool = True) -> Event:
        """Append an event: deliver to local subscribers now, persist in the next batch.

        With ``deliver=False`` (the terminal event) the event only joins the next write;
        ``release`` shows it to subscribers once that write is done, so nobody sees a run
        end before its end is in Postgres.
        """
        self.seq += 1
        event = envelope(seq=self.seq, run_id=self.run_id, chat_id=self.chat_id, type=type_, payload=payload)
        self.pending.append(event)
        if deliver:
            self.log.append(event)
            self.deliver(event)
        if not is_terminal(event):
            self._schedule_flush()
        return event

    def release(self, event: Event) -> None:
        """Log and deliver an event emitted with ``deliver=False``."""
        self.log.append(event)
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        loop = self.loop
        for subscriber in self.subscribers:  # push() never changes the set
            if subscriber.loop is loop:
                subscriber.push(event)
            else:
                subscriber.feed(event)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            delay = settings.ENGINE_FLUSH_INTERVAL_MS / 1000
            self._flush_handle = self.loop.call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        self._flush_handle = None
        task = self.loop.create_task(self.flush())
        self.runtime.background.add(task)
        task.add_done_callback(self.runtime.background.discard)

    async def flush(self) -> None:
        """Persist pending events (and, at most once a second, the partial text)."""
        async with self.flush_lock:
            if not self.pending and not self.text_dirty:
                return
            batch, self.pending = self.pending, []
            now = self.loop.time()
            content = None
            if self.text_dirty and now - self._last_text_flush >= settings.ENGINE_MESSAGE_FLUSH_INTERVAL_MS / 1000:
                content = self.text
                self.text_dirty = False
                self._last_text_flush = now
            elif self.text_dirty:
                self._schedule_flush()  # come back for the text
            if not batch and content is None:
                return
            try:
                await write_db(
                    store.run_flush,
                    run_id=self.run_id,
                    message_id=self.message_id,
                    events=batch,
                    content=content,
                )
                self.db_writes += 1
            except Exception:
                logger.exception("flush of run %s failed; retrying with the next batch", self.run_id)
                self.pending[:0] = batch
                if content is not None:
                    self.text_dirty = True
                self._schedule_flush()
                return
            if batch:
                self.forget_through(batch[-1]["seq"])
                await self.runtime.publish_events(self.run_id, batch)

    def forget_through(self, seq: int) -> None:
        """Drop events up to ``seq`` from the in-memory log: they are in Postgres now."""
        count = seq - self.log_base + 1
        if count > 0:
            del self.log[:count]
            self.log_base += count

    def events_after(self, after_seq: int) -> list[Event]:
        """The in-memory events after ``after_seq`` (those up to ``log_base - 1`` are in Postgres)."""
        return self.log[max(0, after_seq + 1 - self.log_base):]

    def request_stop(self, reason: str) -> None:
        """Cancel the run's task on its own loop (thread-safe)."""

        def _cancel() -> None:
            if self.finishing:
                return
            if self.stop_reason is None:
                self.stop_reason = reason
            if self.task is not None and not self.task.done():
                self.task.cancel()

        if _running_loop() is self.loop:
            _cancel()
        else:
            self.loop.call_soon_threadsafe(_cancel)

    def cancel_pending_flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Runtime:
    """One per event loop: bus listener, reaper, and subscriptions to remote runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.bus: Bus = make_bus()
        self.background: set[asyncio.Task[Any]] = set()
        self.remote_subscribers: dict[str, set[Subscription]] = {}
        self._joined: dict[str, int] = {}
        self._started = False
        self._start_lock = asyncio.Lock()

    async def ensure_started(self) -> None:
        if self._started:
            return
        async with self._start_lock:
            if self._started:
                return
            await self.bus.start(self._on_bus_message)
            self._spawn(self._reaper_loop(), "engine-reaper")
            self._started = True

    def _spawn(self, coro: Any, name: str) -> None:
        task = self.loop.create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # --- bus ------------------------------------------------------------------
    def _on_bus_message(self, message: BusMessage) -> None:
        if message.get("origin") == WORKER_ID:
            return
        run_id = str(message.get("runId", ""))
        if message.get("type") == "run.events":
            for subscriber in list(self.remote_subscribers.get(run_id, ())):
                for event in message.get("events", []):
                    subscriber.feed(event)
        elif message.get("type") == "run.stop":
            active = _local_runs.get(run_id)
            if active is not None:
                active.request_stop("stop")
        elif message.get("type") == "run.notify":  # an outside event (direct-save) for a run running here
            active = _local_runs.get(run_id)
            event = message.get("event") or {}
            if active is not None and isinstance(event.get("type"), str):
                from apps.engine.notify import emit_unless_ending

                emit_unless_ending(active, event["type"], dict(event.get("payload") or {}))

    async def join(self, run_id: str) -> None:
        self._joined[run_id] = self._joined.get(run_id, 0) + 1
        if self._joined[run_id] == 1:
            await self.bus.join(run_id)

    async def leave(self, run_id: str) -> None:
        count = self._joined.get(run_id, 0) - 1
        if count > 0:
            self._joined[run_id] = count
            return
        self._joined.pop(run_id, None)
        await self.bus.leave(run_id)

    async def publish_events(self, run_id: str, events: list[Event]) -> None:
        await self.bus.publish(run_id, {"type": "run.events", "runId": run_id, "origin": WORKER_ID, "events": events})

    async def publish_stop(self, run_id: str) -> None:
        await self.bus.publish(run_id, {"type": "run.stop", "runId": run_id, "origin": WORKER_ID})

    # --- runs -------------------------------------------------------------------
    def register(self, active: ActiveRun) -> None:
        _local_runs[active.run_id] = active

    def unregister(self, active: ActiveRun) -> None:
        _local_runs.pop(active.run_id, None)

    @staticmethod
    def local_run(run_id: str) -> ActiveRun | None:
        return _local_runs.get(run_id)

    # --- subscriptions ------------------------------------------------------------
    async def subscribe(self, run_id: str, after_seq: int) -> Subscription:
        await self.ensure_started()
        active = _local_runs.get(run_id)
        sub = Subscription(run_id, after_seq, poll_s=settings.ENGINE_SUBSCRIBER_POLL_S, on_close=self._unsubscribe)
        if active is not None:
            # No await between reading the log and registering: nothing can slip through.
            sub.local = active
            sub.preload(active.events_after(after_seq))
            active.subscribers.add(sub)
            if active.loop is not self.loop:
                sub.local = None  # another loop in this process: treat like a remote run
            if after_seq + 1 < active.log_base:
                await sub.refill()  # the run's start is only in Postgres now
            return sub
        self.remote_subscribers.setdefault(run_id, set()).add(sub)
        await self.join(run_id)
        await sub.refill()
        # The run may have started here between our check and the join.
        active = _local_runs.get(run_id)
        if active is not None and active.loop is self.loop:
            sub.local = active
            sub.preload(active.events_after(sub.last))
            active.subscribers.add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        if sub.local is not None:
            sub.local.subscribers.discard(sub)
        active = _local_runs.get(sub.run_id)
        if active is not None:
            active.subscribers.discard(sub)
        subs = self.remote_subscribers.get(sub.run_id)
        if subs is not None and sub in subs:
            subs.discard(sub)
            if not subs:
                self.remote_subscribers.pop(sub.run_id, None)
            self._spawn(self.leave(sub.run_id), "engine-leave")

    # --- reaper -----------------------------------------------------------------
    async def _reaper_loop(self) -> None:
        interval = settings.ENGINE_REAPER_INTERVAL_S
        while True:
            try:
                reaped = await write_db(store.runs_reap_stale, stale_after_s=settings.ENGINE_STALE_AFTER_S)
                for terminal in reaped:
                    run_id = terminal["runId"]
                    logger.warning("run %s had no heartbeat; marked interrupted", run_id)
                    # Tell subscribers everywhere at once (a gap before it makes them refill).
                    self._on_bus_message({"type": "run.events", "runId": run_id, "events": [terminal]})
                    await self.publish_events(run_id, [terminal])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("reaper round failed", exc_info=True)
            await asyncio.sleep(interval)  # a periodic timer, not a wait for a condition

    async def close(self) -> None:
        for task in list(self.background):
            task.cancel()
        await self.bus.close()


_runtimes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Runtime] = weakref.WeakKeyDictionary()


def get_runtime() -> Runtime:
    loop = asyncio.get_running_loop()
    runtime = _runtimes.get(loop)
    if runtime is None:
        runtime = Runtime(loop)
        _runtimes[loop] = runtime
    return runtime


def local_runs() -> dict[str, ActiveRun]:
    return _local_runs

