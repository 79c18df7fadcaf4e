"""Run plan over real HTTP: build mode, the plan as the next message, plan.step status, 409s."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from apps.core.models import Workspace
from apps.plans.models import Plan, PlanStep
from apps.plans.services import plan_save
from apps.projects.models import ProjectFile
from tests.engine.conftest import FAKE_MODEL, default_chat
from tests.fakes.script import Script, ToolCallScript
from tests.plans.conftest import get, of_type, post, read_sse, stream

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {"title": "Models", "description": "Invoice and Customer", "files": ["billing/models.py"], "risk": "medium"},
    {"title": "API", "description": "", "files": ["billing/api.py"], "risk": "high"},
    {"title": "Docs", "description": "", "files": [], "risk": "low"},
]


async def make_plan(chat: Chat, steps: list[dict[str, Any]] | None = None) -> Plan:
    return await sync_to_async(plan_save)(chat=chat, steps=steps or STEPS, raw_text="the plan")


def run_path(tenant: Any, chat: Chat) -> str:
    return f"/api/plan/{tenant.project.pk}/{chat.pk}/run"


def step_call(index: int, status: str, call_id: str) -> ToolCallScript:
    return ToolCallScript(name="update_plan_step", id=call_id, arguments=json.dumps({"index": index,
                                                                                    "status": status}))


async def statuses(plan: Plan) -> list[str]:
    return [s async for s in PlanStep.objects.filter(plan=plan).order_by("index").values_list("status", flat=True)]


async def test_offline_plan_then_run_plan_builds_the_steps_in_order(asgi_server, tenant_async):
    chat = await default_chat(tenant_async)
    planned = await stream(asgi_server, tenant_async, f"/api/plan/{tenant_async.project.pk}",
                           {"chatId": str(chat.pk), "text": "A blog with posts and authors"})
    ready = of_type(planned, "plan.ready")[0]
    count = len(ready["steps"])
    events = await stream(asgi_server, tenant_async, run_path(tenant_async, chat))
    assert events[-1]["type"] == "session.task_complete" and events[-1]["status"] == "completed"
    steps = [(e["index"], e["status"]) for e in of_type(events, "plan.step")]
    expected = [pair for index in range(1, count + 1) for pair in ((index, "running"), (index, "done"))]
    assert steps == expected and all(e["planId"] == ready["planId"] for e in of_type(events, "plan.step"))
    assert not of_type(events, "tool.error")
    written = {p async for p in ProjectFile.objects.filter(project=tenant_async.project).values_list("path", flat=True)}
    assert {f for s in ready["steps"] for f in s["files"]} <= written
    models = await ProjectFile.objects.aget(project=tenant_async.project, path="backend/models.py")
    assert "class Post(models.Model)" in models.content
    await chat.arefresh_from_db()
    assert chat.mode == "build"
    user = await Message.objects.aget(pk=events[0]["userMessageId"])
    assert "1. Create the data models" in user.content and user.parts["metadata"]["planId"] == ready["planId"]
    plan = await (await get(asgi_server, tenant_async, f"/api/plans/{ready['planId']}")).json()
    assert plan["status"] == "completed" and plan["runId"] == events[0]["runId"]
    assert {s["status"] for s in plan["steps"]} == {"done"}


async def test_a_model_reports_steps_and_the_rest_close_with_the_run(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    fake_openai.enqueue(Script(text=["Starting. "], tool_calls=[step_call(1, "running", "c1"),
                                                                step_call(1, "done", "c2"),
                                                                step_call(2, "skipped", "c3")]))
    fake_openai.set_script(Script.from_text("Done."))
    events = await stream(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert [(e["index"], e["status"]) for e in of_type(events, "plan.step")] == [
        (1, "running"), (1, "done"), (2, "skipped"), (3, "done")]
    first = fake_openai.requests[0].body
    tools = {t["function"]["name"] for t in first["tools"]}
    assert {"update_plan_step", "write_file"} <= tools and "submit_plan" not in tools
    assert "1. Models" in first["messages"][-1]["content"] and "Files: billing/models.py" in \
        first["messages"][-1]["content"]
    assert await statuses(plan) == ["done", "skipped", "done"]
    await plan.arefresh_from_db()
    assert plan.status == "completed"


async def test_a_run_that_fails_fails_the_running_step_and_skips_the_rest(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    fake_openai.enqueue(Script(tool_calls=[step_call(1, "running", "c1")]))
    fake_openai.set_script(Script(text=["a ", "b ", "c ", "d "], drop_after=2))
    events = await stream(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert events[-1]["type"] == "error" and events[-1]["error"] == "stream_interrupted"
    assert [(e["index"], e["status"]) for e in of_type(events, "plan.step")] == [
        (1, "running"), (1, "failed"), (2, "skipped"), (3, "skipped")]
    assert await statuses(plan) == ["failed", "skipped", "skipped"]
    await plan.arefresh_from_db()
    assert plan.status == "failed"


async def test_a_bad_step_report_is_a_tool_error(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    await make_plan(chat)
    fake_openai.enqueue(Script(tool_calls=[step_call(7, "done", "c1")]))
    fake_openai.set_script(Script.from_text("ok"))
    events = await stream(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert "between 1 and 3" in of_type(events, "tool.error")[0]["error"]


async def test_running_a_plan_twice_is_a_409_before_any_provider_call(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    fake_openai.set_script(Script.from_text("Built."))
    await stream(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    calls, runs = len(fake_openai.requests), await Run.objects.acount()
    again = await post(asgi_server, tenant_async, run_path(tenant_async, chat),
                       {"model": FAKE_MODEL, "planId": str(plan.pk)})
    body = await again.json()
    assert again.status == 409 and body["error"] == "plan_not_draft" and "completed" in body["message"]
    assert len(fake_openai.requests) == calls and await Run.objects.acount() == runs


async def test_a_chat_that_is_answering_is_a_409(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    fake_openai.set_script(Script(text=[f"w{i} " for i in range(400)], token_delay=0.02))
    busy = await post(asgi_server, tenant_async, f"/api/chat/{tenant_async.project.pk}/messages",
                      {"chatId": str(chat.pk), "text": "talk", "model": FAKE_MODEL})
    await read_sse(busy, limit=3)
    response = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert response.status == 409 and (await response.json())["error"] == "run_active"
    await plan.arefresh_from_db()
    assert plan.status == "draft" and len(fake_openai.requests) == 1
    busy.close()


async def test_errors_before_the_stream_leave_the_plan_a_draft(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    no_provider = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": "claude-sonnet-4"})
    assert no_provider.status == 503 and (await no_provider.json())["error"] == "no_provider"
    await Workspace.objects.filter(pk=tenant_async.workspace.pk).aupdate(credit_limit=Decimal("0"))
    exhausted = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    body = await exhausted.json()
    assert exhausted.status == 402 and body["error"] == "credit_exhausted" and body["message"]
    await plan.arefresh_from_db()
    await chat.arefresh_from_db()
    assert plan.status == "draft" and chat.mode == "chat" and fake_openai.requests == []
    assert await Message.objects.acount() == 0


async def test_model_unavailable_mid_run_is_a_final_error_event_and_fails_the_plan(asgi_server, tenant_async,
                                                                                  fake_openai, fast_engine):
    fast_engine.PROVIDER_MAX_RETRIES = 0
    chat = await default_chat(tenant_async)
    plan = await make_plan(chat)
    fake_openai.set_script(Script.error(503))
    events = await stream(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert (events[-1]["type"], events[-1]["error"]) == ("error", "model_unavailable")
    assert [e["status"] for e in of_type(events, "plan.step")] == ["skipped"] * 3
    await plan.arefresh_from_db()
    assert plan.status == "failed"


async def test_missing_plans_bad_bodies_and_other_workspaces(asgi_server, tenant_async, fake_openai):
    from tests.conftest import make_tenant

    chat = await default_chat(tenant_async)
    none_yet = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"model": FAKE_MODEL})
    assert none_yet.status == 404 and (await none_yet.json())["error"] == "not_found"
    plan = await make_plan(chat)
    bad = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"planId": 5})
    assert bad.status == 400 and (await bad.json())["field"] == "planId"
    unknown = await post(asgi_server, tenant_async, run_path(tenant_async, chat), {"planId": "nope"})
    assert unknown.status == 404
    other = await sync_to_async(make_tenant)("intruder")
    foreign = await post(asgi_server, other, run_path(tenant_async, chat), {"planId": str(plan.pk)})
    assert foreign.status == 404
    other_chat = await default_chat(other)
    crossed = await post(asgi_server, other, f"/api/plan/{other.project.pk}/{other_chat.pk}/run",
                         {"planId": str(plan.pk)})
    assert crossed.status == 404
    await plan.arefresh_from_db()
    assert plan.status == "draft" and fake_openai.requests == []


async def test_a_repeated_client_message_id_attaches_to_the_run_it_started(asgi_server, tenant_async, fake_openai):
    chat = await default_chat(tenant_async)
    await make_plan(chat)
    fake_openai.set_script(Script.from_text("Built it."))
    first = await stream(asgi_server, tenant_async, run_path(tenant_async, chat),
                         {"model": FAKE_MODEL, "clientMessageId": "run-1"})
    calls, runs = len(fake_openai.requests), await Run.objects.acount()
    again = await stream(asgi_server, tenant_async, run_path(tenant_async, chat),
                         {"model": FAKE_MODEL, "clientMessageId": "run-1"})
    assert again == first and len(fake_openai.requests) == calls and await Run.objects.acount() == runs
    other = await post(asgi_server, tenant_async, run_path(tenant_async, chat),
                       {"model": FAKE_MODEL, "clientMessageId": "run-2"})
    assert other.status == 409
