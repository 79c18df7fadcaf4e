"""Provider and client faults (SPEC §4.6): each run ends cleanly and the invariant checker is green.

Every case drives real runs through the engine against a fake upstream over real HTTP and
the real SDKs; ``check_runs`` then reads only Postgres.
"""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Message, Run
from apps.engine import api as engine
from tests.engine.conftest import FAKE_MODEL, collect, make_request, text_script
from tests.fakes.script import Script
from tests.invariants import check_runs

pytestmark = pytest.mark.django_db(transaction=True)


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(e.get("delta", "") for e in events if e["type"] == "assistant.message_delta")


async def _verdict(tenant: Any, received: dict[str, str], fake: Any = None) -> Any:
    called = {}
    if fake is not None:
        # The provider request of each run: runs are sequential here, one request each (or its retries).
        runs = [r async for r in Run.objects.filter(chat__project__workspace=tenant.workspace)
                .order_by("started_at").values_list("pk", flat=True)]
        first = [datetime.fromtimestamp(r.received_at, tz=UTC) for r in fake.requests]
        called = {str(run): at for run, at in zip(runs, first, strict=False)}
    return await sync_to_async(check_runs)(workspace_ids=[tenant.workspace.pk], received=received,
                                           provider_called_at=called)


FAULTS = {
    # before the first token: retried (429 honours Retry-After), then the answer or a clean error
    "429 then ok": ([Script.error(429, retry_after="0"), text_script(5)], "session.task_complete", None),
    "500 until out of retries": ([Script.error(500)] * 3, "error", "model_unavailable"),
    "error mid-stream": ([text_script(10, error_after=4)], "error", "stream_interrupted"),
    "dropped connection": ([text_script(10, drop_after=3)], "error", "stream_interrupted"),
    "body ends without finish": ([text_script(10, end_after=6)], "error", None),
}


@pytest.mark.parametrize("case", list(FAULTS))
async def test_openai_faults_end_cleanly_and_keep_the_invariants(case, tenant_async, fake_openai, fast_engine):
    fast_engine.PROVIDER_MAX_RETRIES = 2
    scripts, terminal, code = FAULTS[case]
    for script in scripts:
        fake_openai.enqueue(script)
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["type"] == terminal
    if code is not None:
        assert events[-1]["error"] == code and events[-1]["retry"] is True
    verdict = await _verdict(tenant_async, {handle.run_id: _text(events)}, fake_openai)
    assert verdict.ok, verdict.summary()
    assert verdict.runs == 1


async def test_anthropic_overloaded_529_before_the_first_token_is_retried(tenant_async, fake_anthropic, fast_engine):
    fake_anthropic.enqueue(Script.error(529))
    fake_anthropic.enqueue(Script(text=["Fine ", "now."]))
    handle = await engine.start_run(await make_request(tenant_async, model="claude-sonnet-4"))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["type"] == "session.task_complete" and _text(events) == "Fine now."
    assert len(fake_anthropic.requests) == 2
    verdict = await _verdict(tenant_async, {handle.run_id: _text(events)}, fake_anthropic)
    assert verdict.ok, verdict.summary()


async def test_a_stalled_provider_is_cut_off_and_keeps_the_invariants(tenant_async, fake_openai, fast_engine):
    fast_engine.PROVIDER_IDLE_TIMEOUT_S = 0.5
    fake_openai.set_script(text_script(10, stall_after=3, stall_seconds=20))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id), timeout=10)
    assert (events[-1]["type"], events[-1]["error"]) == ("error", "provider_timeout")
    verdict = await _verdict(tenant_async, {handle.run_id: _text(events)}, fake_openai)
    assert verdict.ok, verdict.summary()


async def test_client_going_away_and_stops_mid_stream_keep_the_invariants(tenant_async, fake_openai):
    """A subscriber that leaves does not end the run; a stop does, with the partial text billed."""
    fake_openai.set_script(text_script(40, delay=0.02))
    left = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL, client_message_id="a"))
    sub = await engine.subscribe(left.run_id)
    assert (await sub.next(timeout=5)) is not None
    sub.close()  # the client disconnected
    stopped = await engine.start_run(await make_request(tenant_async, "second", model=FAKE_MODEL,
                                                        client_message_id="b"))
    sub = await engine.subscribe(stopped.run_id)
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len([e for e in seen if e["type"] == "assistant.message_delta"]) < 3:
            event = await sub.next(timeout=5)
            assert event is not None
            seen.append(event)
    await engine.stop_run(stopped.run_id)
    seen += await collect(sub)
    assert seen[-1]["type"] == "session.task_complete" and seen[-1]["status"] == "stopped"
    whole = await collect(await engine.subscribe(left.run_id))
    assert whole[-1]["status"] == "completed"
    verdict = await _verdict(tenant_async, {left.run_id: _text(whole), stopped.run_id: _text(seen)})
    assert verdict.ok, verdict.summary()
    assert verdict.runs == 2


async def test_credit_is_never_overshot_by_concurrent_runs(tenant_async, fake_openai, fast_engine):
    """Concurrent runs whose real usage exceeds their reservations: the limit still holds.

    Each run reserves its estimate (small here) but the upstream reports 20,000 input tokens:
    the settlement charges up to the limit and records the rest as uncharged; once the limit is
    reached, new runs are refused before anything is written.
    """
    from apps.core.errors import CreditExhausted
    from apps.core.models import Workspace

    def limit() -> None:
        Workspace.objects.filter(pk=tenant_async.workspace.pk).update(credit_limit=Decimal("0.2"))

    await sync_to_async(limit)()
    fake_openai.set_script(text_script(5, delay=0.01, usage=(20_000, 5)))

    async def one(i: int) -> str | None:
        try:
            handle = await engine.start_run(await make_request(tenant_async, f"turn {i}", model=FAKE_MODEL,
                                                                max_tokens=100))
        except CreditExhausted:
            return None
        await collect(await engine.subscribe(handle.run_id))
        return handle.run_id

    first = [r for r in await asyncio.gather(*(one(i) for i in range(12))) if r]
    later = [r for r in await asyncio.gather(*(one(i) for i in range(12, 16))) if r]
    assert len(first) == 12 and later == []  # the limit is reached: refused up front
    verdict = await _verdict(tenant_async, {})
    assert verdict.ok, verdict.summary()
    workspace = await Workspace.objects.aget(pk=tenant_async.workspace.pk)
    assert workspace.credit_used == Decimal("0.2")
    uncharged = [m.parts.get("uncharged") async for m in Message.objects.filter(role="assistant")]
    assert any(uncharged)  # the excess over the limit was recorded, not billed
    assert await Message.objects.filter(role="user").acount() == 12


async def test_a_reaped_run_gives_its_credit_reservation_back(tenant_async):
    """A worker that dies holding a reservation must not leave the workspace's credit short."""
    from apps.core.limits import quota
    from apps.core.models import Workspace
    from apps.engine import store
    from tests.engine.conftest import default_chat

    chat = await default_chat(tenant_async)
    held = quota(rate_key="dead-worker", workspace_id=tenant_async.workspace.pk, amount=Decimal("0.25"))
    start = await sync_to_async(store.run_begin)(chat=chat, text="hi", parts={}, client_message_id=None,
                                                 model="gpt-4o", provider="openai", worker_id="dead", quota=held)
    workspace = await Workspace.objects.aget(pk=tenant_async.workspace.pk)
    assert workspace.credit_used == Decimal("0.25")
    # Nobody beats this run's heart: the reaper (stale after 1 s here) ends it and releases the credit.
    events = await collect(await engine.subscribe(start.run_id), timeout=10)
    assert events[-1]["error"] == "interrupted"
    workspace = await Workspace.objects.aget(pk=tenant_async.workspace.pk)
    assert workspace.credit_used == Decimal("0")
    verdict = await _verdict(tenant_async, {})
    assert verdict.ok, verdict.summary()


async def test_an_end_that_cannot_be_recorded_is_reaped_and_its_credit_released_once(
        tenant_async, fake_openai, monkeypatch):
    """The database refuses the run's last write: the reaper ends it and gives the reservation back once."""
    from apps.core.models import Workspace
    from apps.engine import runner

    def refused(**_kwargs: Any) -> None:
        raise RuntimeError("the database refused the end of the run")

    monkeypatch.setattr(runner, "_record_end", refused)
    fake_openai.set_script(text_script(5))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    live = await collect(await engine.subscribe(handle.run_id))
    assert live[-1]["type"] == "session.task_complete"  # what the client saw before the write failed
    async with asyncio.timeout(15):  # the reaper (stale after 1 s here) ends the run
        while (await Run.objects.aget(pk=handle.run_id)).status == "running":
            await asyncio.sleep(0.1)
    run = await Run.objects.aget(pk=handle.run_id)
    workspace = await Workspace.objects.aget(pk=tenant_async.workspace.pk)
    assert run.status == "interrupted" and workspace.credit_used == Decimal("0")
    verdict = await _verdict(tenant_async, {})
    assert verdict.ok, verdict.summary()
