"""The guarantees of a run (SPEC §4), each proven against a real fake upstream over HTTP."""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Message, Run, RunEvent
from apps.core.errors import CreditExhausted, InvalidModel, RateLimited
from apps.engine import api as engine
from apps.engine.events import envelope
from apps.engine.runtime import local_runs
from apps.providers import registry
from apps.providers.pricing import cost_for
from tests.engine.conftest import FAKE_MODEL, collect, make_request, text_script
from tests.fakes.script import Script

pytestmark = pytest.mark.django_db(transaction=True)


def assert_well_formed(events: list[dict[str, Any]]) -> None:
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "run.started"
    terminals = [e for e in events if e["type"] in ("error", "session.task_complete")]
    assert terminals == [events[-1]]


async def stored_events(run_id: str) -> list[tuple[int, str]]:
    return [(seq, type_) async for seq, type_ in RunEvent.objects.filter(run_id=run_id)
            .order_by("seq").values_list("seq", "type")]


async def test_user_message_is_committed_before_the_provider_is_called(tenant_async, fake_openai, monkeypatch):
    seen: list[bool] = []
    real_get_provider = registry.get_provider

    class Checking:
        name = "checking"

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def stream(self, request: Any) -> Any:
            text = request.messages[-1].content

            def committed() -> bool:  # a separate connection sees only committed rows
                from django.db import connection

                try:
                    return Message.objects.filter(role="user", content=text).exists()
                finally:
                    connection.close()

            seen.append(await sync_to_async(committed, thread_sensitive=False)())
            async for item in self.inner.stream(request):
                yield item

    monkeypatch.setattr(registry, "get_provider", lambda info: Checking(real_get_provider(info)))
    fake_openai.set_script(text_script(3))
    handle = await engine.start_run(await make_request(tenant_async, "committed first?", model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["type"] == "session.task_complete"
    assert seen == [True]


async def test_repeated_client_message_id_never_calls_the_provider_twice(tenant_async, fake_openai):
    fake_openai.set_script(text_script(10, delay=0.01))
    first = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL, client_message_id="m-1"))
    second = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL, client_message_id="m-1"))
    assert second.run_id == first.run_id and not second.created
    events = await collect(await engine.subscribe(second.run_id))
    assert_well_formed(events)
    third = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL, client_message_id="m-1"))
    assert third.run_id == first.run_id
    assert len(fake_openai.requests) == 1
    assert await Message.objects.filter(role="user").acount() == 1


async def test_streamed_text_is_stored_flushed_while_streaming_and_ends_complete(tenant_async, fake_openai):
    fake_openai.set_script(text_script(60, delay=0.03, usage=(120, 60)))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert message.status == "streaming"  # exists before the first token

    sub = await engine.subscribe(handle.run_id)
    events: list[dict[str, Any]] = []
    snapshots: list[str] = []
    async with asyncio.timeout(30):
        async for event in sub:
            events.append(event)
            if event["type"] == "assistant.message_delta" and len(events) in (25, 45):
                await asyncio.sleep(0.4)  # let the once-a-second text flush happen meanwhile
                snapshots.append((await Message.objects.aget(pk=handle.assistant_message_id)).content)
    sub.close()
    assert_well_formed(events)
    streamed = "".join(e["delta"] for e in events if e["type"] == "assistant.message_delta")
    final = await Message.objects.aget(pk=handle.assistant_message_id)
    assert final.status == "complete"
    assert final.content == streamed == "".join(f"tok{i} " for i in range(60))
    assert next(e for e in events if e["type"] == "assistant.message")["text"] == streamed
    assert all(s and streamed.startswith(s) for s in snapshots), snapshots
    assert len(snapshots[1]) > len(snapshots[0])


async def test_events_are_persisted_in_batches_gap_free_with_one_terminal(tenant_async, fake_openai):
    fake_openai.set_script(text_script(100, delay=0.005))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    active = local_runs()[handle.run_id]
    events = await collect(await engine.subscribe(handle.run_id))
    assert_well_formed(events)
    assert await stored_events(handle.run_id) == [(e["seq"], e["type"]) for e in events]
    # ~0.5 s of streaming at a 50 ms flush interval: about ten batches, not a write per token.
    assert active.db_writes < len(events) / 4


async def test_usage_and_cost_are_recorded_per_message_and_run(tenant_async, fake_openai):
    fake_openai.set_script(text_script(5, usage=(1000, 500)))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    usage = next(e for e in events if e["type"] == "session.usage_info")
    expected = cost_for(registry.resolve_model(FAKE_MODEL), 1000, 500)
    assert expected > 0
    assert (usage["inputTokens"], usage["outputTokens"]) == (1000, 500)
    assert Decimal(str(usage["cost"])) == expected
    run = await Run.objects.aget(pk=handle.run_id)
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert (run.input_tokens, run.output_tokens, run.cost) == (1000, 500, expected)
    assert (message.input_tokens, message.output_tokens, message.cost) == (1000, 500, expected)


async def test_stop_cancels_the_upstream_keeps_and_bills_the_partial_answer(tenant_async, fake_openai):
    fake_openai.set_script(text_script(200, delay=0.02))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    sub = await engine.subscribe(handle.run_id)
    events: list[dict[str, Any]] = []
    stopped = False
    async with asyncio.timeout(30):
        async for event in sub:
            events.append(event)
            if not stopped and sum(e["type"] == "assistant.message_delta" for e in events) == 5:
                stopped = await engine.stop_run(handle.run_id)
                assert stopped
    sub.close()
    assert_well_formed(events)
    assert events[-1] == {**events[-1], "type": "session.task_complete", "status": "stopped"}
    assert await fake_openai.await_disconnect(timeout=5)
    streamed = "".join(e["delta"] for e in events if e["type"] == "assistant.message_delta")
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert message.status == "stopped" and message.content == streamed and 5 <= len(streamed.split()) < 200
    assert message.output_tokens > 0 and message.cost > 0 and message.parts.get("usageEstimated") is True
    assert (await Run.objects.aget(pk=handle.run_id)).status == "stopped"


async def test_a_run_outlives_its_subscriber(tenant_async, fake_openai):
    fake_openai.set_script(text_script(30, delay=0.01))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    sub = await engine.subscribe(handle.run_id)
    first = await sub.next(timeout=5)
    assert first is not None and first["seq"] == 1
    sub.close()  # the client went away
    resumed = await collect(await engine.subscribe(handle.run_id, after_seq=1))
    assert resumed[0]["seq"] == 2 and resumed[-1]["status"] == "completed"
    assert (await Message.objects.aget(pk=handle.assistant_message_id)).status == "complete"


async def test_idle_provider_is_cut_off_with_a_retryable_error(tenant_async, fake_openai, fast_engine):
    fast_engine.PROVIDER_IDLE_TIMEOUT_S = 0.5
    fake_openai.set_script(text_script(10, stall_after=3, stall_seconds=20))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id), timeout=10)
    assert_well_formed(events)
    assert events[-1]["type"] == "error"
    assert (events[-1]["error"], events[-1]["retry"]) == ("provider_timeout", True)
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert message.status == "error" and message.content == "tok0 tok1 tok2 "


async def test_retry_before_first_token_honours_retry_after(tenant_async, fake_openai):
    fake_openai.enqueue(Script.error(429, retry_after="0"))
    fake_openai.enqueue(text_script(3))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["type"] == "session.task_complete"
    assert len(fake_openai.requests) == 2


async def test_fault_after_first_token_ends_with_error_not_silent_truncation(tenant_async, fake_openai):
    fake_openai.set_script(text_script(10, drop_after=4))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    assert_well_formed(events)
    assert events[-1]["type"] == "error" and events[-1]["retry"] is True
    assert events[-1]["error"] == "stream_interrupted"
    assert len(fake_openai.requests) == 1  # no retry after the first token


async def test_upstream_unavailable_exhausts_retries_then_model_unavailable(tenant_async, fake_openai, fast_engine):
    fast_engine.PROVIDER_MAX_RETRIES = 2
    fake_openai.set_script(Script.error(500))
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    assert (events[-1]["type"], events[-1]["error"], events[-1]["retry"]) == ("error", "model_unavailable", True)
    assert len(fake_openai.requests) == 3


async def test_bad_input_is_refused_before_anything_is_written(tenant_async, fake_openai, fast_engine):
    with pytest.raises(InvalidModel) as caught:
        await engine.start_run(await make_request(tenant_async, model="no-such-model"))
    assert "offline" in caught.value.extra["availableModels"]
    fast_engine.RATE_LIMIT_PER_MINUTE = 1
    await collect(await engine.subscribe((await engine.start_run(
        await make_request(tenant_async, model="offline"))).run_id))
    with pytest.raises(RateLimited):
        await engine.start_run(await make_request(tenant_async, model="offline"))
    fast_engine.RATE_LIMIT_PER_MINUTE = 1000
    await sync_to_async(_exhaust_credit)(tenant_async)
    with pytest.raises(CreditExhausted):
        await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    assert await Message.objects.filter(role="user").acount() == 1
    assert len(fake_openai.requests) == 0


def _exhaust_credit(tenant: Any) -> None:
    tenant.workspace.credit_limit = Decimal("0.01")
    tenant.workspace.credit_used = Decimal("0.01")
    tenant.workspace.save()


async def test_reaper_interrupts_a_run_whose_worker_died(tenant_async):
    from apps.engine import store
    from tests.engine.conftest import default_chat

    chat = await default_chat(tenant_async)
    start = await sync_to_async(store.run_begin)(chat=chat, text="hi", parts={}, client_message_id=None,
                                                 model="offline", provider="offline", worker_id="dead")
    await sync_to_async(store.run_flush)(run_id=start.run_id, message_id=start.assistant_message_id,
                                         events=[envelope(seq=2, run_id=start.run_id, chat_id=start.chat_id,
                                                                  type="assistant.message_delta",
                                                                  payload={"delta": "half"})],
                                         content="half")
    # Nobody beats this run's heart: the reaper (stale after 1 s here) must end it.
    events = await collect(await engine.subscribe(start.run_id), timeout=10)
    assert [e["type"] for e in events] == ["run.started", "assistant.message_delta", "error"]
    assert (events[-1]["error"], events[-1]["retry"]) == ("interrupted", True)
    message = await Message.objects.aget(pk=start.assistant_message_id)
    assert (message.status, message.content) == ("interrupted", "half")


async def test_compaction_summarises_older_turns_when_history_exceeds_the_budget(tenant_async, fake_openai,
                                                                                  fast_engine):
    from tests.engine.conftest import default_chat

    chat = await default_chat(tenant_async)
    for i in range(12):
        await Message.objects.acreate(chat=chat, role="user" if i % 2 == 0 else "assistant",
                                      content=f"turn {i} " + "words " * 150)
    fast_engine.ENGINE_CONTEXT_BUDGET_TOKENS = 1500
    fake_openai.enqueue(Script(text=["Summary: a blog."]))
    fake_openai.set_script(text_script(3))
    handle = await engine.start_run(await make_request(tenant_async, "next question", model=FAKE_MODEL))
    events = await collect(await engine.subscribe(handle.run_id))
    types = [e["type"] for e in events]
    assert types.index("session.compaction_start") < types.index("session.compaction_complete")
    assert next(e for e in events if e["type"] == "session.compaction_complete")["summaryTokens"] > 0
    summary = await Message.objects.aget(chat=chat, role="system")
    assert summary.content == "Summary: a blog." and summary.parts["kind"] == "compaction"
    answer_request = fake_openai.requests[-1].body
    assert len(answer_request["messages"]) < 12
    assert "Summary: a blog." in answer_request["messages"][0]["content"]


async def test_the_run_keeps_only_unpersisted_events_in_memory_and_late_subscribers_miss_nothing(
        tenant_async, fake_openai):
    fake_openai.set_script(text_script(200, delay=0.005))  # ~1 s of streaming, flushed every 50 ms
    handle = await engine.start_run(await make_request(tenant_async, model=FAKE_MODEL))
    active = local_runs()[handle.run_id]
    first = await engine.subscribe(handle.run_id)
    seen: list[dict[str, Any]] = []
    log_sizes: list[int] = []
    late = None
    async with asyncio.timeout(30):
        async for event in first:
            seen.append(event)
            log_sizes.append(len(active.log))
            if len(seen) == 150:
                assert active.log_base > 1  # the start is only in Postgres now
                late = await engine.subscribe(handle.run_id, after_seq=0)
    first.close()
    assert late is not None
    assert await collect(late) == seen  # read back from Postgres, then live: no gap, no duplicate
    assert late.refills >= 1
    assert_well_formed(seen)
    assert max(log_sizes) < 100, log_sizes  # not the whole answer (~200 events)
