"""In-process fan-out: the subscription's waits, and when a run shows its end."""
from __future__ import annotations

import asyncio
from typing import Any

from apps.engine import events as ev
from apps.engine.runtime import ActiveRun, get_runtime
from apps.engine.subscription import Subscription


async def test_waits_share_one_timer_and_the_timeout_still_ends_a_quiet_wait():
    loop = asyncio.get_running_loop()
    sub = Subscription("run", 0, poll_s=1.0, on_close=lambda _s: None)
    sub.local = object()  # type: ignore[assignment]  # a run on this loop: no polling
    armed: list[float] = []
    real_call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        if getattr(callback, "__self__", None) is sub:
            armed.append(when)
        return real_call_at(when, callback, *args, **kwargs)

    loop.call_at = counting_call_at  # type: ignore[method-assign]
    try:
        async def produce() -> None:
            for seq in range(1, 101):
                await asyncio.sleep(0)
                sub.push({"seq": seq, "type": "assistant.message_delta"})

        producer = asyncio.create_task(produce())
        received = []
        for _ in range(100):
            event = await sub.next(timeout=15)
            assert event is not None
            received.append(event["seq"])
        await producer
        assert received == list(range(1, 101))
        assert len(armed) == 1  # not one timer per event

        started = loop.time()
        assert await sub.next(timeout=0.05) is None  # nothing came: the wait ends on time
        assert loop.time() - started < 1.0

        sub.push({"seq": 101, "type": "session.task_complete"})
        assert (await sub.next(timeout=15) or {})["seq"] == 101
        assert sub.done and sub._timer is None  # the last event cancels the pending timer
    finally:
        del loop.call_at
        sub.close()


async def test_a_run_shows_its_end_only_once_the_end_is_written():
    active = ActiveRun(run_id="run", chat_id="chat", message_id="message", runtime=get_runtime())
    active.record_started(ev.envelope(seq=1, run_id="run", chat_id="chat", type=ev.RUN_STARTED, payload={}))
    terminal = active.emit(ev.TASK_COMPLETE, {"status": "completed"}, deliver=False)
    # A subscriber joining now (while the final write is in flight) must not see the end yet.
    assert [e["seq"] for e in active.events_after(0)] == [1]
    assert active.pending == [terminal]  # it goes out with the final write
    active.release(terminal)
    assert active.events_after(0)[-1] is terminal
