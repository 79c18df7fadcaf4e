"""Plan mode over real HTTP: POST /api/plan/{projectId} streams, stores a plan, announces plan.ready."""
from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest

from apps.chats.models import Message, Run
from apps.core.models import Workspace
from apps.plans.models import Plan
from apps.projects.models import ProjectFile
from tests.engine.conftest import FAKE_MODEL, default_chat
from tests.fakes.script import Script, ToolCallScript
from tests.plans.conftest import get, of_type, post, read_sse, stream

pytestmark = pytest.mark.django_db(transaction=True)

MARKDOWN_PLAN = """Here is the plan.

1. **Add the Invoice model** — number, total and customer
   Files: `billing/models.py`
   Risk: medium
2. **Expose invoices** — REST endpoints (high risk)
   Files: billing/api.py, billing/urls.py

Tell me if this works for you."""


def plan_path(tenant: Any) -> str:
    return f"/api/plan/{tenant.project.pk}"


async def test_offline_plan_mode_writes_a_plan_through_submit_plan(asgi_server, tenant_async):
    chat = await default_chat(tenant_async)
    await ProjectFile.objects.acreate(project=tenant_async.project, path="backend/api/posts_legacy.py", content="")
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async),
                          {"chatId": str(chat.pk), "text": "I need a blog with posts, authors, and comments"})
    types = [e["type"] for e in events]
    assert types[-1] == "session.task_complete" and events[-1]["status"] == "completed"
    assert types.index("plan.ready") < types.index("assistant.message") < len(types) - 1
    call = of_type(events, "tool.call")[0]
    assert call["tool"] == "submit_plan"
    ready = of_type(events, "plan.ready")[0]
    titles = [s["title"] for s in ready["steps"]]
    assert titles[0] == "Create the data models" and titles[-1] == "Write the tests"
    assert {"API endpoints for Post", "UI for Author", "API endpoints for Comment"} <= set(titles)
    post_api = next(s for s in ready["steps"] if s["title"] == "API endpoints for Post")
    # The existing file named after the entity is part of the step; risk follows the relationships.
    assert post_api["files"] == ["backend/api/posts.py", "backend/api/posts_legacy.py"]
    assert post_api["risk"] in ("medium", "high")
    assert [s["index"] for s in ready["steps"]] == list(range(1, len(titles) + 1))

    response = await get(asgi_server, tenant_async, f"/api/plan/{tenant_async.project.pk}/{chat.pk}")
    plan = await response.json()
    assert response.status == 200 and plan["id"] == ready["planId"] and plan["status"] == "draft"
    assert [s["title"] for s in plan["steps"]] == titles and {s["status"] for s in plan["steps"]} == {"pending"}
    message = await Message.objects.aget(pk=events[0]["assistantMessageId"])
    assert plan["rawText"] == message.content and "1. **Create the data models**" in plan["rawText"]
    stored = await Plan.objects.aget(pk=ready["planId"])
    assert stored.source_run_id == (await Run.objects.aget(pk=events[0]["runId"])).pk


async def test_offline_plan_uses_the_chats_domain_model(asgi_server, tenant_async):
    chat = await default_chat(tenant_async)
    await stream(asgi_server, tenant_async, f"/api/chat/{tenant_async.project.pk}/messages",
                 {"chatId": str(chat.pk), "text": "A library with books and members; members borrow books"})
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async),
                          {"chatId": str(chat.pk), "text": "Plan the implementation"})
    titles = [s["title"] for s in of_type(events, "plan.ready")[0]["steps"]]
    assert "API endpoints for Book" in titles and "API endpoints for Member" in titles


async def test_markdown_answer_is_parsed_into_the_plan(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(Script.from_text(MARKDOWN_PLAN))
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async),
                          {"text": "Plan invoices", "model": FAKE_MODEL})
    ready = of_type(events, "plan.ready")[0]
    assert [(s["title"], s["files"], s["risk"]) for s in ready["steps"]] == [
        ("Add the Invoice model", ["billing/models.py"], "medium"),
        ("Expose invoices", ["billing/api.py", "billing/urls.py"], "high"),
    ]
    tools = [t["function"]["name"] for t in fake_openai.requests[0].body["tools"]]
    assert "submit_plan" in tools and "write_file" not in tools and "update_plan_step" not in tools
    plan = await Plan.objects.aget(pk=ready["planId"])
    assert plan.raw_text == MARKDOWN_PLAN


async def test_submit_plan_tool_wins_over_the_markdown(asgi_server, tenant_async, fake_openai):
    steps = [{"title": "Only step", "description": "from the tool", "files": ["a/b.py"], "risk": "low"}]
    fake_openai.enqueue(Script(tool_calls=[ToolCallScript(name="submit_plan", id="c1",
                                                          arguments=json.dumps({"steps": steps}))]))
    fake_openai.set_script(Script.from_text(MARKDOWN_PLAN))
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async), {"text": "Plan", "model": FAKE_MODEL})
    result = of_type(events, "tool.result")[0]
    assert result["result"]["ok"] is True and result["result"]["steps"] == 1
    ready = of_type(events, "plan.ready")
    assert len(ready) == 1 and [s["title"] for s in ready[0]["steps"]] == ["Only step"]
    assert (await Plan.objects.aget(pk=ready[0]["planId"])).raw_text == MARKDOWN_PLAN
    assert await Plan.objects.acount() == 1


async def test_an_invalid_submit_plan_is_a_tool_error_and_the_markdown_still_counts(asgi_server, tenant_async,
                                                                                 fake_openai):
    bad = {"steps": [{"title": "x", "risk": "extreme"}]}
    fake_openai.enqueue(Script(tool_calls=[ToolCallScript(name="submit_plan", id="c1", arguments=json.dumps(bad))]))
    fake_openai.set_script(Script.from_text(MARKDOWN_PLAN))
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async), {"text": "Plan", "model": FAKE_MODEL})
    error = of_type(events, "tool.error")[0]
    assert "steps[0].risk" in error["error"]
    assert [s["title"] for s in of_type(events, "plan.ready")[0]["steps"]] == ["Add the Invoice model",
                                                                               "Expose invoices"]


async def test_an_answer_without_a_plan_stores_none(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(Script.from_text("What should invoices contain?"))
    chat = await default_chat(tenant_async)
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async),
                          {"chatId": str(chat.pk), "text": "Plan", "model": FAKE_MODEL})
    assert not of_type(events, "plan.ready") and events[-1]["type"] == "session.task_complete"
    response = await get(asgi_server, tenant_async, f"/api/plan/{tenant_async.project.pk}/{chat.pk}")
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"


async def test_seed_errors_before_the_stream(asgi_server, tenant_async, fake_openai):
    no_provider = await post(asgi_server, tenant_async, plan_path(tenant_async),
                             {"text": "Plan", "model": "claude-sonnet-4"})
    assert no_provider.status == 503
    body = await no_provider.json()
    assert body["error"] == "no_provider" and body["message"]
    await Workspace.objects.filter(pk=tenant_async.workspace.pk).aupdate(credit_limit=Decimal("0"))
    exhausted = await post(asgi_server, tenant_async, plan_path(tenant_async), {"text": "Plan", "model": FAKE_MODEL})
    assert exhausted.status == 402 and (await exhausted.json())["error"] == "credit_exhausted"
    assert fake_openai.requests == [] and await Message.objects.acount() == 0


async def test_model_unavailable_is_a_final_error_event(asgi_server, tenant_async, fake_openai, fast_engine):
    fast_engine.PROVIDER_MAX_RETRIES = 0
    fake_openai.set_script(Script.error(503))
    events = await stream(asgi_server, tenant_async, plan_path(tenant_async), {"text": "Plan", "model": FAKE_MODEL})
    assert events[-1]["type"] == "error" and events[-1]["error"] == "model_unavailable" and events[-1]["message"]
    assert not of_type(events, "plan.ready") and await Plan.objects.acount() == 0


@pytest.mark.parametrize(("body", "field"), [({"model": FAKE_MODEL}, "text"), ({"text": "x", "temperature": 9},
                                                                              "temperature")])
async def test_bad_input_is_a_400_naming_the_field(asgi_server, tenant_async, fake_openai, body, field):
    response = await post(asgi_server, tenant_async, plan_path(tenant_async), body)
    payload = await response.json()
    assert response.status == 400 and payload["field"] == field
    assert fake_openai.requests == []


async def test_another_workspace_gets_404_everywhere(asgi_server, tenant_async):
    from asgiref.sync import sync_to_async

    from tests.conftest import make_tenant

    chat = await default_chat(tenant_async)
    await stream(asgi_server, tenant_async, plan_path(tenant_async), {"chatId": str(chat.pk), "text": "A shop"})
    other = await sync_to_async(make_tenant)("intruder")
    plan_mode = await post(asgi_server, other, plan_path(tenant_async), {"text": "Plan"})
    read = await get(asgi_server, other, f"/api/plan/{tenant_async.project.pk}/{chat.pk}")
    own_project = await get(asgi_server, other, f"/api/plan/{other.project.pk}/{chat.pk}")
    assert (plan_mode.status, read.status, own_project.status) == (404, 404, 404)
    assert await Message.objects.filter(chat__project=other.project).acount() == 0


async def test_closing_the_connection_cancels_a_plan_run(asgi_server, tenant_async, fake_openai):
    fake_openai.set_script(Script(text=[f"word{i} " for i in range(300)], token_delay=0.02))
    response = await post(asgi_server, tenant_async, plan_path(tenant_async), {"text": "Plan", "model": FAKE_MODEL})
    first = await read_sse(response, limit=3)
    response.close()
    assert await fake_openai.await_disconnect(timeout=5)
    run = await Run.objects.aget(pk=first[0].data["runId"])
    for _ in range(100):  # bounded: the run records its end right after the upstream closes
        if run.status != "running":
            break
        await run.arefresh_from_db()
        await asyncio.sleep(0.05)  # polling a database condition, bounded above
    assert run.status == "stopped"
