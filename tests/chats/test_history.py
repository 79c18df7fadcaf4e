"""Seed 001 history: GET /api/chat/{projectId}/messages?chatId&before&limit (keyset pagination)."""
from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.chats.apis import MessageOutputSerializer
from apps.chats.models import Chat, Message
from apps.chats.selectors import history_cursor_encode, message_history_page
from apps.core.errors import ValidationFailed
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


def _fill(chat: Chat, count: int, *, start=None, step=timedelta(seconds=1), prefix="m") -> list[Message]:
    start = start or timezone.now() - timedelta(days=1)
    rows = [
        Message(chat=chat, role="user" if i % 2 == 0 else "assistant", content=f"{prefix}{i}",
                created_at=start + step * i)
        for i in range(count)
    ]
    return Message.objects.bulk_create(rows)


def _url(tenant, chat, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"chatId": chat.pk, **params}.items())
    return f"/api/chat/{tenant.project.pk}/messages?{query}"


@pytest.fixture
def chat(tenant) -> Chat:
    return Chat.objects.get(project=tenant.project, is_default=True)


def test_pages_walk_backwards_each_page_chronological(tenant, chat):
    created = _fill(chat, 120)
    first = tenant.client.get(_url(tenant, chat)).json()
    assert [m["content"] for m in first["messages"]] == [f"m{i}" for i in range(70, 120)]
    assert first["hasMore"] is True and first["nextCursor"]

    second = tenant.client.get(_url(tenant, chat, before=first["nextCursor"])).json()
    assert [m["content"] for m in second["messages"]] == [f"m{i}" for i in range(20, 70)]

    third = tenant.client.get(_url(tenant, chat, before=second["nextCursor"])).json()
    assert [m["content"] for m in third["messages"]] == [f"m{i}" for i in range(20)]
    assert third["hasMore"] is False and third["nextCursor"] is None
    assert len(created) == 120


def test_message_shape(tenant, chat):
    run = RunFactory(chat=chat)
    Message.objects.filter(pk=run.assistant_message.pk).update(
        input_tokens=12, output_tokens=34, cost=Decimal("0.001234"), model="gpt-5", provider="openai",
        status="stopped", parts={"reasoning": "hm"}, client_message_id=None,
    )
    Message.objects.filter(pk=run.user_message.pk).update(client_message_id="client-1")
    page = tenant.client.get(_url(tenant, chat)).json()
    by_id = {m["id"]: m for m in page["messages"]}
    assistant = by_id[str(run.assistant_message.pk)]
    assert assistant == {
        "id": str(run.assistant_message.pk), "chatId": str(chat.pk), "role": "assistant",
        "content": run.assistant_message.content, "parts": {"reasoning": "hm"}, "status": "stopped",
        "model": "gpt-5", "provider": "openai", "usage": {"inputTokens": 12, "outputTokens": 34},
        "cost": 0.001234, "clientMessageId": None, "createdAt": assistant["createdAt"],
        "runId": str(run.pk),
    }
    assert set(assistant) == set(MessageOutputSerializer().fields)  # the fast path matches the schema
    assert by_id[str(run.user_message.pk)]["runId"] == str(run.pk)
    assert by_id[str(run.user_message.pk)]["clientMessageId"] == "client-1"


def test_cursor_is_stable_while_messages_are_inserted(tenant, chat):
    _fill(chat, 130)
    seen: list[str] = []
    page = tenant.client.get(_url(tenant, chat, limit=40)).json()
    seen += [m["id"] for m in page["messages"]]
    inserted = 0
    while page["hasMore"]:
        # New messages arrive between page fetches: they must not shift older pages.
        _fill(chat, 7, start=timezone.now() + timedelta(minutes=inserted), prefix=f"new{inserted}-")
        inserted += 7
        page = tenant.client.get(_url(tenant, chat, limit=40, before=page["nextCursor"])).json()
        seen += [m["id"] for m in page["messages"]]
    assert len(seen) == len(set(seen)) == 130  # no duplicates, no skips
    original = Message.objects.filter(chat=chat, content__in=[f"m{i}" for i in range(130)])
    assert set(seen) == {str(pk) for pk in original.values_list("pk", flat=True)}
    assert Message.objects.filter(chat=chat).count() == 130 + inserted


def test_equal_timestamps_are_ordered_by_id_across_pages(tenant, chat):
    _fill(chat, 9, step=timedelta(0))  # all at the same instant
    expected = sorted(str(pk) for pk in Message.objects.filter(chat=chat).values_list("pk", flat=True))
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"before": cursor} if cursor else {})}
        page = tenant.client.get(_url(tenant, chat, **params)).json()
        ids = [m["id"] for m in page["messages"]] + ids
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert ids == expected


def test_limits(tenant, chat, settings):
    _fill(chat, 260)
    assert settings.HISTORY_MAX_PAGE_SIZE == 200
    assert len(tenant.client.get(_url(tenant, chat)).json()["messages"]) == 50
    assert len(tenant.client.get(_url(tenant, chat, limit=1)).json()["messages"]) == 1
    assert len(tenant.client.get(_url(tenant, chat, limit=200)).json()["messages"]) == 200


def test_empty_chat(tenant, chat):
    assert tenant.client.get(_url(tenant, chat)).json() == {"messages": [], "nextCursor": None, "hasMore": False}


def _garbage_cursors() -> list[str]:
    def enc(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return ["garbage", "%%%", enc("1.123"), enc(f"2.1.{uuid.uuid4().hex}"), enc(f"1.abc.{uuid.uuid4().hex}"),
            enc("1.1.not-a-uuid"), enc(f"1.{10**30}.{uuid.uuid4().hex}"), "////", "é"]


@pytest.mark.parametrize("cursor", _garbage_cursors())
def test_bad_cursor_is_400_naming_before(tenant, chat, cursor):
    response = tenant.client.get(f"/api/chat/{tenant.project.pk}/messages",
                                 {"chatId": str(chat.pk), "before": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "before"


@pytest.mark.parametrize("limit", ["0", "-1", "201", "abc", "1.5", "1e3", " "])
def test_bad_limit_is_400_naming_limit(tenant, chat, limit):
    response = tenant.client.get(f"/api/chat/{tenant.project.pk}/messages",
                                 {"chatId": str(chat.pk), "limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "limit"


def test_missing_chat_id_is_400_naming_chat_id(tenant):
    response = tenant.client.get(f"/api/chat/{tenant.project.pk}/messages")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "chatId"


def test_chat_of_another_project_is_404(tenant, chat):
    other_project = tenant.client.post("/api/projects", {"name": "p2"}, format="json").json()
    response = tenant.client.get(f"/api/chat/{other_project['id']}/messages", {"chatId": str(chat.pk)})
    assert response.status_code == 404


def test_selector_uses_keyset_never_offset_and_a_fixed_number_of_queries(chat):
    messages = _fill(chat, 30)
    with CaptureQueriesContext(connection) as queries:
        page = message_history_page(chat=chat, before=history_cursor_encode(messages[20]), limit=5)
    assert [m.content for m in page.messages] == [f"m{i}" for i in range(15, 20)]
    assert len(queries) == 1  # the page with each message's run
    sql = queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "LIMIT 6" in " ".join(sql.split())
    assert "(M.CREATED_AT, M.ID) < (" in sql


@pytest.mark.parametrize("limit", [0, 201])
def test_selector_rejects_bad_limit(chat, limit):
    with pytest.raises(ValidationFailed) as excinfo:
        message_history_page(chat=chat, before=None, limit=limit)
    assert excinfo.value.extra["field"] == "limit"
