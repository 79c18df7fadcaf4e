"""Persistence of runs: idempotent begin, batched flush, finish, the reaper."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.chats.models import Message, Run, RunEvent
from apps.engine import store
from apps.engine.events import envelope
from tests.factories import ChatFactory

pytestmark = pytest.mark.django_db


def _begin(chat, cmid="c-1"):
    return store.run_begin(chat=chat, text="hello", parts={}, client_message_id=cmid, model="offline",
                           provider="offline", worker_id="w1")


def test_begin_commits_user_and_streaming_assistant_message_and_seq_1():
    chat = ChatFactory()
    start = _begin(chat)
    assert start.created
    user = Message.objects.get(pk=start.user_message_id)
    assistant = Message.objects.get(pk=start.assistant_message_id)
    assert (user.role, user.content, user.client_message_id) == ("user", "hello", "c-1")
    assert (assistant.role, assistant.status, assistant.content) == ("assistant", "streaming", "")
    events = list(RunEvent.objects.filter(run_id=start.run_id).values_list("seq", "type"))
    assert events == [(1, "run.started")]


def test_repeated_client_message_id_returns_the_same_run_and_writes_nothing():
    chat = ChatFactory()
    first = _begin(chat)
    counts = (Message.objects.count(), Run.objects.count(), RunEvent.objects.count())
    again = _begin(chat)
    assert not again.created
    assert again.run_id == first.run_id
    assert (Message.objects.count(), Run.objects.count(), RunEvent.objects.count()) == counts


def test_same_client_message_id_in_another_chat_is_a_new_run():
    first = _begin(ChatFactory())
    other = _begin(ChatFactory())
    assert other.created and other.run_id != first.run_id


def _ev(start: store.RunStart, seq: int, type_: str, **payload: object) -> dict[str, object]:
    return envelope(seq=seq, run_id=start.run_id, chat_id=start.chat_id, type=type_, payload=payload)


def test_flush_appends_events_saves_text_and_ignores_duplicates():
    start = _begin(ChatFactory())
    store.run_flush(run_id=start.run_id, message_id=start.assistant_message_id,
                    events=[_ev(start, 2, "assistant.message_delta", delta="Hi")], content="Hi")
    store.run_flush(run_id=start.run_id, message_id=start.assistant_message_id,
                    events=[_ev(start, 2, "assistant.message_delta", delta="Hi"),
                            _ev(start, 3, "assistant.message_delta", delta=" there")], content=None)
    assert list(RunEvent.objects.filter(run_id=start.run_id).values_list("seq", flat=True)) == [1, 2, 3]
    assert Message.objects.get(pk=start.assistant_message_id).content == "Hi"
    assert Run.objects.get(pk=start.run_id).last_seq == 3
    # The envelope's own keys are not stored twice: the payload is the event's fields.
    assert RunEvent.objects.get(run_id=start.run_id, seq=3).payload == {"delta": " there"}
    replay = store.events_after(run_id=start.run_id, after_seq=1)
    assert [e["seq"] for e in replay] == [2, 3]
    assert replay[1] == {"seq": 3, "runId": start.run_id, "chatId": start.chat_id,
                         "type": "assistant.message_delta", "delta": " there"}


def test_reaper_interrupts_stale_runs_once_and_keeps_partial_text():
    start = _begin(ChatFactory())
    store.run_flush(run_id=start.run_id, message_id=start.assistant_message_id,
                    events=[_ev(start, 2, "assistant.message_delta", delta="partial")], content="partial")
    fresh = _begin(ChatFactory(), cmid="other")
    Run.objects.filter(pk=start.run_id).update(heartbeat_at=timezone.now() - timedelta(seconds=120))

    [terminal] = store.runs_reap_stale(stale_after_s=30)
    assert (terminal["runId"], terminal["seq"], terminal["type"]) == (start.run_id, 3, "error")
    assert store.runs_reap_stale(stale_after_s=30) == []

    run = Run.objects.get(pk=start.run_id)
    assert (run.status, run.error_code, run.last_seq) == ("interrupted", "interrupted", 3)
    message = Message.objects.get(pk=start.assistant_message_id)
    assert (message.status, message.content) == ("interrupted", "partial")
    terminal = RunEvent.objects.get(run_id=start.run_id, seq=3)
    assert terminal.type == "error" and terminal.payload["retry"] is True
    assert Run.objects.get(pk=fresh.run_id).status == "running"


def test_finish_after_reaping_writes_nothing():
    start = _begin(ChatFactory())
    Run.objects.filter(pk=start.run_id).update(heartbeat_at=timezone.now() - timedelta(seconds=120))
    store.runs_reap_stale(stale_after_s=30)
    outcome = store.RunOutcome(run_status="completed", message_status="complete", content="x", parts={})
    assert store.run_finish(run_id=start.run_id, message_id=start.assistant_message_id,
                            events=[_ev(start, 2, "session.task_complete", status="completed")],
                            outcome=outcome) is False
    assert RunEvent.objects.filter(run_id=start.run_id, type="session.task_complete").count() == 0
