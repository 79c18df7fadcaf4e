"""REST: GET /api/runs/{runId} and GET /api/runs/{runId}/events?after&limit."""
from __future__ import annotations

from decimal import Decimal

import pytest

from apps.chats.models import Chat
from tests.factories import RunEventFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(tenant):
    chat = Chat.objects.get(project=tenant.project, is_default=True)
    run = RunFactory(chat=chat, input_tokens=10, output_tokens=20, cost=Decimal("0.5"))
    RunEventFactory(run=run, seq=1, type="run.started", payload={"model": "offline", "seq": 99})
    for seq in range(2, 12):
        RunEventFactory(run=run, seq=seq)
    RunEventFactory(run=run, seq=12, type="session.task_complete", payload={"status": "completed"})
    return run


def test_run_detail(tenant, run):
    body = tenant.client.get(f"/api/runs/{run.pk}").json()
    assert body["id"] == str(run.pk)
    assert body["chatId"] == str(run.chat_id)
    assert body["projectId"] == str(tenant.project.pk)
    assert body["userMessageId"] == str(run.user_message_id)
    assert body["assistantMessageId"] == str(run.assistant_message_id)
    assert body["usage"] == {"inputTokens": 10, "outputTokens": 20}
    assert body["cost"] == 0.5
    assert body["status"] == "completed"


def test_events_in_seq_order_with_flattened_payload(tenant, run):
    body = tenant.client.get(f"/api/runs/{run.pk}/events").json()
    assert [e["seq"] for e in body["events"]] == list(range(1, 13))
    first = body["events"][0]
    assert first["type"] == "run.started" and first["model"] == "offline"
    assert first["seq"] == 1  # the envelope wins over a payload key of the same name
    assert first["runId"] == str(run.pk) and "createdAt" in first
    assert body["events"][1]["delta"] == "token 2 "
    assert body["nextAfter"] == 12 and body["hasMore"] is False


def test_events_pages_with_after_and_limit(tenant, run):
    url = f"/api/runs/{run.pk}/events"
    page = tenant.client.get(url, {"after": 3, "limit": 4}).json()
    assert [e["seq"] for e in page["events"]] == [4, 5, 6, 7]
    assert page["nextAfter"] == 7 and page["hasMore"] is True
    page = tenant.client.get(url, {"after": page["nextAfter"], "limit": 10}).json()
    assert [e["seq"] for e in page["events"]] == [8, 9, 10, 11, 12]
    assert page["hasMore"] is False
    page = tenant.client.get(url, {"after": 12}).json()
    assert page == {"events": [], "nextAfter": 12, "hasMore": False}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"after": "-1"}, "after"), ({"after": "x"}, "after"), ({"limit": "0"}, "limit"),
     ({"limit": "1001"}, "limit"), ({"limit": "many"}, "limit")],
)
def test_events_bad_parameters_are_400(tenant, run, params, field):
    response = tenant.client.get(f"/api/runs/{run.pk}/events", params)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
