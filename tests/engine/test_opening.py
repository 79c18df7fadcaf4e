"""Opening a run in one DB call: the scoped chat lookup, the one-statement set-up, the prompt reads."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.chats.models import Chat, Message, Run, RunEvent
from apps.core.errors import CreditExhausted, NotFound, RateLimited
from apps.core.limits import quota
from apps.core.models import RateLimitCounter, Workspace
from apps.engine import store
from apps.engine.api import ChatRef, RunRequest
from apps.engine.opening import run_open
from apps.engine.prompting import PromptInput, prepare_prompt
from tests.concurrency import race
from tests.conftest import Tenant, make_tenant
from tests.factories import ChatFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def principal(tenant: Tenant) -> Any:
    from apps.core.auth import resolve_api_key

    return resolve_api_key(tenant.raw_key)


def default_chat(tenant: Tenant) -> Chat:
    return Chat.objects.get(project=tenant.project, is_default=True)


def request(tenant: Tenant, chat: Any = None, text: str = "hello", **kwargs: Any) -> RunRequest:
    if chat is None:
        chat = ChatRef(tenant.project.pk, default_chat(tenant).pk)
    return RunRequest(principal=principal(tenant), chat=chat, text=text, model="offline", **kwargs)


def written() -> tuple[int, int, int, int]:
    return (Message.objects.count(), Run.objects.count(), RunEvent.objects.count(),
            sum(RateLimitCounter.objects.values_list("count", flat=True)))


def test_a_new_turn_is_two_statements_set_up_and_prompt_reads():
    tenant = make_tenant("one-hop")
    req = request(tenant, client_message_id="c-1")
    with CaptureQueriesContext(connection) as queries:
        opened = run_open(req, worker_id="w")
    sql = [" ".join(q["sql"].split()) for q in queries]
    assert len(sql) == 2, [s[:60] for s in sql]
    set_up, reads = sql
    assert set_up.startswith("WITH target AS ( SELECT c.id AS chat_id")
    assert "INSERT INTO core_ratelimitcounter" in set_up and "INSERT INTO chats_run" in set_up
    assert reads.startswith("WITH summary AS")
    assert opened.start.created and opened.prompt is not None and not isinstance(opened.prompt, Exception)
    assert opened.chat.pk == default_chat(tenant).pk and opened.chat.project.name == tenant.project.name
    user = Message.objects.get(pk=opened.start.user_message_id)
    assert (user.content, user.client_message_id, user.created_at) == ("hello", "c-1", opened.start.created_at)
    assistant = Message.objects.get(pk=opened.start.assistant_message_id)
    assert (assistant.role, assistant.status, assistant.model) == ("assistant", "streaming", "offline")
    assert Run.objects.get(pk=opened.start.run_id).status == "running"
    assert list(RunEvent.objects.filter(run_id=opened.start.run_id).values_list("seq", "type", "payload")) == [
        (1, "run.started", {"userMessageId": str(user.pk), "assistantMessageId": str(assistant.pk),
                            "model": "offline", "provider": "offline"})]
    assert Chat.objects.get(pk=opened.start.chat_id).updated_at == opened.start.created_at
    assert RateLimitCounter.objects.get().count == 1


def test_without_a_model_the_chat_is_looked_up_first_for_its_default_model():
    tenant = make_tenant("default-model")
    Chat.objects.filter(pk=default_chat(tenant).pk).update(default_model="offline")
    req = request(tenant)
    req.model = None
    with CaptureQueriesContext(connection) as queries:
        opened = run_open(req, worker_id="w")
    assert len(queries) == 3 and opened.model_info.name == "offline"


def test_a_repeated_client_message_id_attaches_in_one_statement_and_writes_nothing():
    tenant = make_tenant("repeat")
    first = run_open(request(tenant, client_message_id="c-1"), worker_id="w")
    before = written()
    req = request(tenant, client_message_id="c-1")
    with CaptureQueriesContext(connection) as queries:
        again = run_open(req, worker_id="w")
    assert len(queries) == 1, [q["sql"][:60] for q in queries]  # no prompt either
    assert not again.start.created and again.prompt is None
    assert (again.start.run_id, again.start.user_message_id, again.start.assistant_message_id) == (
        first.start.run_id, first.start.user_message_id, first.start.assistant_message_id)
    assert written() == before


def test_the_default_chat_and_its_project_come_with_the_lookup():
    tenant = make_tenant("default")
    ChatFactory(project=tenant.project)  # not the default one
    opened = run_open(request(tenant, chat=ChatRef(str(tenant.project.pk))), worker_id="w")
    assert opened.chat.pk == default_chat(tenant).pk
    with CaptureQueriesContext(connection) as queries:
        assert opened.chat.project.name == tenant.project.name
    assert len(queries) == 0


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("foreign chat in own project", "Chat not found."),
        ("foreign chat in its project", "Chat not found."),
        ("foreign project, default chat", "Project not found."),
        ("missing chat", "Chat not found."),
        ("malformed chat id", "Chat not found."),
        ("malformed project id", "Project not found."),
        ("missing project, default chat", "Project not found."),
    ],
)
@pytest.mark.parametrize("model", ["offline", None])
def test_the_lookup_is_scoped_to_the_callers_workspace(case, message, model):
    tenant, other = make_tenant("alpha"), make_tenant("beta")
    own, foreign = default_chat(tenant), default_chat(other)
    ref = {
        "foreign chat in own project": ChatRef(tenant.project.pk, foreign.pk),
        "foreign chat in its project": ChatRef(other.project.pk, foreign.pk),
        "foreign project, default chat": ChatRef(other.project.pk),
        "missing chat": ChatRef(tenant.project.pk, uuid.uuid4()),
        "malformed chat id": ChatRef(tenant.project.pk, "../x"),
        "malformed project id": ChatRef("nope", own.pk),
        "missing project, default chat": ChatRef(uuid.uuid4()),
    }[case]
    req = request(tenant, chat=ref, client_message_id="c-1")
    req.model = model  # None: the lookup comes first; else it is part of the set-up statement
    before = written()
    with pytest.raises(NotFound) as caught:
        run_open(req, worker_id="w")
    assert caught.value.message == message
    assert written() == before
    # ... and the owner reaches the foreign chat the same way.
    if case in ("foreign chat in its project", "foreign project, default chat"):
        assert run_open(request(other, chat=ref), worker_id="w").start.created


def test_stored_history_ends_before_the_new_turn():
    tenant = make_tenant("history")
    chat = default_chat(tenant)
    past = timezone.now() - timedelta(minutes=5)
    MessageFactory(chat=chat, role="user", content="earlier question", created_at=past)
    MessageFactory(chat=chat, role="assistant", content="earlier answer", created_at=past + timedelta(seconds=1))
    MessageFactory(chat=chat, role="assistant", content="", created_at=past + timedelta(seconds=2))  # empty: skipped
    # A turn stored after this one started (another run of the chat) is not part of its history.
    MessageFactory(chat=chat, role="user", content="later question", created_at=timezone.now() + timedelta(minutes=1))
    opened = run_open(request(tenant, text="new question"), worker_id="w")
    history = [(t.message.role, t.message.content) for t in opened.prompt.history]  # type: ignore[union-attr]
    assert history == [("user", "earlier question"), ("assistant", "earlier answer")]
    assert opened.prompt.user.content == "new question"  # type: ignore[union-attr]


def test_without_the_turn_time_the_history_ends_at_the_stored_user_message():
    tenant = make_tenant("history-bound")
    chat = Chat.objects.select_related("project").get(pk=default_chat(tenant).pk)
    past = timezone.now() - timedelta(minutes=5)
    MessageFactory(chat=chat, role="user", content="earlier question", created_at=past)
    start = store.run_begin(chat=chat, text="this turn", parts={}, client_message_id=None, model="offline",
                            provider="offline", worker_id="w")
    Message.objects.filter(pk=start.assistant_message_id).update(content="partial answer of this turn")
    prompt = prepare_prompt(PromptInput(chat=chat, text="this turn", user_message_id=start.user_message_id,
                                        assistant_message_id=start.assistant_message_id))
    assert [t.message.content for t in prompt.history] == ["earlier question"]


def test_a_compaction_summary_bounds_the_history_from_below():
    tenant = make_tenant("summary")
    chat = default_chat(tenant)
    past = timezone.now() - timedelta(minutes=5)
    MessageFactory(chat=chat, role="user", content="summarised", created_at=past)
    MessageFactory(chat=chat, role="assistant", content="kept", created_at=past + timedelta(seconds=2))
    MessageFactory(chat=chat, role="system", content="The summary.", created_at=past + timedelta(seconds=3),
                   parts={"kind": "compaction", "coversUntil": (past + timedelta(seconds=1)).isoformat()})
    opened = run_open(request(tenant), worker_id="w")
    assert opened.prompt.summary == "The summary."  # type: ignore[union-attr]
    assert [t.message.content for t in opened.prompt.history] == ["kept"]  # type: ignore[union-attr]


def test_a_prompt_failure_after_the_run_was_created_is_returned_not_raised(monkeypatch):
    from apps.knowledge import retrieval
    from apps.knowledge.services import document_upload

    tenant = make_tenant("rag-broken")
    document_upload(project=tenant.project, path="docs/a.md", content="# A\nSome text.", mode="inline")

    def broken(**kwargs: Any) -> Any:
        raise retrieval.RetrievalError("knowledge base search failed")

    monkeypatch.setattr(retrieval, "retrieve", broken)
    opened = run_open(request(tenant, text="what does A say?"), worker_id="w")
    assert opened.start.created
    assert isinstance(opened.prompt, retrieval.RetrievalError)
    assert Message.objects.get(pk=opened.start.user_message_id).content == "what does A say?"


# --- the set-up statement's quota ---------------------------------------------------------


def begin(chat: Chat, taken: Any, cmid: str | None = None) -> store.RunStart:
    return store.run_begin(chat=chat, text="hi", parts={}, client_message_id=cmid, model="offline",
                           provider="offline", worker_id="w", quota=taken)


def test_rate_limit_refusal_writes_nothing_and_says_when_to_retry():
    chat = ChatFactory()
    ws = chat.project.workspace
    begin(chat, quota(rate_key="key:r", workspace_id=ws.pk, amount=Decimal("0.01"), rate_limit=1))
    before, used = written(), Workspace.objects.get(pk=ws.pk).credit_used
    assert before[3] == 1 and used == Decimal("0.01")
    with pytest.raises(RateLimited) as caught:
        begin(chat, quota(rate_key="key:r", workspace_id=ws.pk, amount=Decimal("0.01"), rate_limit=1))
    assert 1 <= caught.value.retry_after <= 61
    assert caught.value.as_dict()["retryAfter"] == caught.value.retry_after
    assert written() == before and Workspace.objects.get(pk=ws.pk).credit_used == used
    # The count is per key: another key is unaffected.
    assert begin(chat, quota(rate_key="key:r2", workspace_id=ws.pk, amount=Decimal("0.01"), rate_limit=1)).created


def test_credit_refusal_writes_nothing_not_even_the_rate_count():
    chat = ChatFactory()
    Workspace.objects.filter(pk=chat.project.workspace_id).update(credit_limit=Decimal("0.05"))
    with pytest.raises(CreditExhausted):
        begin(chat, quota(rate_key="key:c", workspace_id=chat.project.workspace_id, amount=Decimal("0.10"),
                          rate_limit=10))
    assert written() == (0, 0, 0, 0)
    assert Workspace.objects.get(pk=chat.project.workspace_id).credit_used == 0


def test_a_zero_cost_run_is_refused_once_the_limit_is_reached():
    chat = ChatFactory()
    Workspace.objects.filter(pk=chat.project.workspace_id).update(credit_limit=Decimal("1.00"),
                                                                  credit_used=Decimal("1.00"))
    with pytest.raises(CreditExhausted):
        begin(chat, quota(rate_key="key:0", workspace_id=chat.project.workspace_id, amount=Decimal("0"),
                          rate_limit=10))
    assert written() == (0, 0, 0, 0)


def test_no_rate_limit_writes_no_counter():
    chat = ChatFactory()
    assert begin(chat, quota(rate_key="key:n", workspace_id=chat.project.workspace_id, amount=Decimal("0"),
                             rate_limit=0)).created
    assert not RateLimitCounter.objects.exists()


def test_a_repeated_client_message_id_takes_no_quota():
    chat = ChatFactory()
    ws_id = chat.project.workspace_id
    first = begin(chat, quota(rate_key="key:t", workspace_id=ws_id, amount=Decimal("0.01"), rate_limit=10), "c-1")
    before, used = written(), Workspace.objects.get(pk=ws_id).credit_used
    again = begin(chat, quota(rate_key="key:t", workspace_id=ws_id, amount=Decimal("0.01"), rate_limit=10), "c-1")
    assert not again.created and again.run_id == first.run_id
    assert written() == before and Workspace.objects.get(pk=ws_id).credit_used == used


def test_a_client_message_id_committed_meanwhile_attaches_and_gives_the_credit_back():
    chat = ChatFactory()
    ws_id = chat.project.workspace_id
    holding, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def other_request() -> None:  # has inserted the same clientMessageId, not committed yet
        try:
            with transaction.atomic():
                results["first"] = begin(chat, None, "c-1")
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def this_request() -> None:
        try:
            results["again"] = begin(chat, quota(rate_key="key:m", workspace_id=ws_id, amount=Decimal("0.01"),
                                                 rate_limit=10), "c-1")
        finally:
            connection.close()

    first = threading.Thread(target=other_request)
    first.start()
    assert holding.wait(10)
    again = threading.Thread(target=this_request)
    again.start()
    try:
        deadline = time.monotonic() + 10
        while not _waits_for_a_lock():  # this request reached the conflicting insert
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        release.set()
        first.join(10)
        again.join(10)
    assert not results["again"].created and results["again"].run_id == results["first"].run_id
    assert Workspace.objects.get(pk=ws_id).credit_used == 0  # given back
    assert RateLimitCounter.objects.get(key="key:m").count == 1  # the request counts, as any refused one did
    assert Run.objects.filter(chat=chat).count() == 1


def _waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return bool(cursor.fetchone()[0])


def test_concurrent_set_ups_never_overshoot_the_credit_limit():
    chat = ChatFactory()
    ws_id = chat.project.workspace_id
    Workspace.objects.filter(pk=ws_id).update(credit_limit=Decimal("1.00"))
    results = race(8, lambda: begin(chat, quota(rate_key="key:x", workspace_id=ws_id, amount=Decimal("0.30"),
                                                 rate_limit=100)), CreditExhausted)
    assert results == ["ok"] * 3 + ["refused"] * 5
    assert Workspace.objects.get(pk=ws_id).credit_used == Decimal("0.90")
    assert RateLimitCounter.objects.get(key="key:x").count == 3
    assert Run.objects.filter(chat=chat).count() == 3


def test_concurrent_set_ups_never_overshoot_the_rate_limit():
    chat = ChatFactory()
    ws_id = chat.project.workspace_id
    results = race(8, lambda: begin(chat, quota(rate_key="key:y", workspace_id=ws_id, amount=Decimal("0.01"),
                                                 rate_limit=3)), RateLimited)
    assert results == ["ok"] * 3 + ["refused"] * 5
    assert RateLimitCounter.objects.get(key="key:y").count == 3
    assert Workspace.objects.get(pk=ws_id).credit_used == Decimal("0.03")


def test_over_both_limits_the_rate_limit_is_reported():
    chat = ChatFactory()
    ws_id = chat.project.workspace_id
    begin(chat, quota(rate_key="key:z", workspace_id=ws_id, amount=Decimal("0.01"), rate_limit=1))
    Workspace.objects.filter(pk=ws_id).update(credit_limit=Decimal("0.01"))
    with pytest.raises(RateLimited):
        begin(chat, quota(rate_key="key:z", workspace_id=ws_id, amount=Decimal("0.01"), rate_limit=1))
    with pytest.raises(CreditExhausted):
        begin(chat, quota(rate_key="key:other", workspace_id=ws_id, amount=Decimal("0.01"), rate_limit=1))
