"""Modes: custom modes CRUD, the per-message mode override, and tools a mode does not allow."""
from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message
from apps.plans.models import Plan
from apps.projects.models import CustomMode, ProjectFile
from tests.engine.conftest import FAKE_MODEL, default_chat
from tests.fakes.script import Script, ToolCallScript
from tests.plans.conftest import of_type, post, stream


def modes_url(tenant: Any) -> str:
    return f"/api/projects/{tenant.project.pk}/modes"


@pytest.mark.django_db
def test_custom_mode_crud(tenant):
    created = tenant.client.post(modes_url(tenant), {"name": "reviewer", "systemPrompt": "Review only.",
                                                      "allowedTools": ["read_file", "list_files"]}, format="json")
    assert created.status_code == 201
    assert created.json() | {"createdAt": None, "updatedAt": None} == {
        "name": "reviewer", "systemPrompt": "Review only.", "allowedTools": ["read_file", "list_files"],
        "createdAt": None, "updatedAt": None}
    listing = tenant.client.get(modes_url(tenant)).json()
    assert [m["name"] for m in listing["modes"]] == ["reviewer"]
    assert {m["name"]: m["allowedTools"] for m in listing["builtin"]}["plan"] == [
        "search_documents", "list_files", "read_file", "submit_plan"]
    patched = tenant.client.patch(f"{modes_url(tenant)}/reviewer", {"allowedTools": ["read_file"]}, format="json")
    assert patched.status_code == 200 and patched.json()["allowedTools"] == ["read_file"]
    assert patched.json()["systemPrompt"] == "Review only."
    assert tenant.client.get(f"{modes_url(tenant)}/reviewer").json()["allowedTools"] == ["read_file"]
    chat = Chat.objects.get(project=tenant.project, is_default=True)
    assert tenant.client.patch(f"/api/chats/{chat.pk}", {"mode": "reviewer"}, format="json").status_code == 200
    assert tenant.client.delete(f"{modes_url(tenant)}/reviewer").status_code == 204
    chat.refresh_from_db()
    assert chat.mode == "chat" and not CustomMode.objects.exists()
    assert tenant.client.get(f"{modes_url(tenant)}/reviewer").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status", "field"), [
    ({"name": "x", "allowedTools": ["read_file", "rm_rf"]}, 400, "allowedTools[1]"),
    ({"name": "plan"}, 400, "name"),
    ({"name": "Not A Slug"}, 400, "name"),
    ({"name": "ok", "allowedTools": "read_file"}, 400, "allowedTools"),
    ({"allowedTools": []}, 400, "name"),
])
def test_bad_custom_modes_are_refused_naming_the_field(tenant, body, status, field):
    response = tenant.client.post(modes_url(tenant), body, format="json")
    assert response.status_code == status and response.json()["error"]["field"] == field
    if field == "allowedTools[1]":
        assert "rm_rf" in response.json()["error"]["message"]
    assert not CustomMode.objects.exists()


@pytest.mark.django_db
def test_duplicate_names_rename_and_other_workspaces(tenant, other_tenant):
    assert tenant.client.post(modes_url(tenant), {"name": "qa"}, format="json").status_code == 201
    duplicate = tenant.client.post(modes_url(tenant), {"name": "qa"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "mode_exists"
    rename = tenant.client.patch(f"{modes_url(tenant)}/qa", {"name": "other"}, format="json")
    assert rename.status_code == 400 and rename.json()["error"]["field"] == "name"
    unknown = tenant.client.patch(f"{modes_url(tenant)}/qa", {"allowedTools": ["nope"]}, format="json")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "allowedTools[0]"
    client = other_tenant.client
    for response in (client.get(modes_url(tenant)), client.post(modes_url(tenant), {"name": "x"}, format="json"),
                     client.get(f"{modes_url(tenant)}/qa"), client.patch(f"{modes_url(tenant)}/qa", {}, format="json"),
                     client.delete(f"{modes_url(tenant)}/qa")):
        assert response.status_code == 404
    assert list(CustomMode.objects.values_list("name", flat=True)) == ["qa"]


# --- a tool the mode does not allow: tool.error, never executed (live server, fake upstream) ---------------


def tool_script(name: str, args: dict[str, Any]) -> Script:
    return Script(text=["On it. "], tool_calls=[ToolCallScript(name=name, id="call_x", arguments=json.dumps(args))])


async def send(live: Any, tenant: Any, chat: Chat, **body: Any) -> list[dict[str, Any]]:
    return await stream(live, tenant, f"/api/chat/{tenant.project.pk}/messages",
                        {"chatId": str(chat.pk), "text": "do it", "model": FAKE_MODEL, **body})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["chat", "plan", "reviewer"])
async def test_write_file_is_refused_where_the_mode_does_not_allow_it(asgi_server, tenant_async, fake_openai, mode):
    await CustomMode.objects.acreate(project=tenant_async.project, name="reviewer", system_prompt="Review only.",
                                     allowed_tools=["read_file"])
    chat = await default_chat(tenant_async)
    await Chat.objects.filter(pk=chat.pk).aupdate(mode=mode)  # as PATCH /api/chats/{chatId} {mode} does
    fake_openai.enqueue(tool_script("write_file", {"path": "evil.py", "content": "x"}))
    fake_openai.set_script(Script.from_text("Refused."))
    events = await send(asgi_server, tenant_async, chat)
    error = of_type(events, "tool.error")[0]
    assert error["id"] == "call_x" and f"not allowed in {mode} mode" in error["error"]
    assert not of_type(events, "tool.result") and not await ProjectFile.objects.aexists()
    offered = {t["function"]["name"] for t in fake_openai.requests[0].body.get("tools", [])}
    assert "write_file" not in offered
    if mode == "reviewer":
        assert offered == {"read_file"}
        assert "Review only." in fake_openai.requests[0].body["messages"][0]["content"]


@pytest.mark.django_db(transaction=True)
async def test_build_mode_refuses_submit_plan_and_the_message_mode_override_applies(asgi_server, tenant_async,
                                                                                   fake_openai):
    chat = await default_chat(tenant_async)
    fake_openai.enqueue(tool_script("submit_plan", {"steps": [{"title": "x", "risk": "low"}]}))
    fake_openai.enqueue(Script.from_text("Refused."))
    events = await send(asgi_server, tenant_async, chat, mode="build")
    assert "not allowed in build mode" in of_type(events, "tool.error")[0]["error"]
    assert not await Plan.objects.aexists()
    # The override is this message's alone: the chat keeps its mode, and build allows write_file.
    fake_openai.enqueue(tool_script("write_file", {"path": "ok.py", "content": "print(1)"}))
    fake_openai.set_script(Script.from_text("Written."))
    events = await send(asgi_server, tenant_async, chat, mode="build")
    assert of_type(events, "tool.result")[0]["result"]["path"] == "ok.py"
    await chat.arefresh_from_db()
    assert chat.mode == "chat"


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_message_mode_is_a_400_before_any_provider_call(asgi_server, tenant_async, fake_openai):
    from tests.conftest import make_tenant

    for mode, field in (("no-such-mode", "mode"), (7, "mode"), ("", "mode")):
        response = await post(asgi_server, tenant_async, f"/api/chat/{tenant_async.project.pk}/messages",
                              {"text": "hi", "model": FAKE_MODEL, "mode": mode})
        body = await response.json()
        assert response.status == 400 and body["error"] == "invalid_mode" and body["field"] == field
    # Another workspace's custom mode is unknown here.
    other = await sync_to_async(make_tenant)("other")
    await CustomMode.objects.acreate(project=other.project, name="theirs")
    theirs = await post(asgi_server, tenant_async, f"/api/chat/{tenant_async.project.pk}/messages",
                        {"text": "hi", "model": FAKE_MODEL, "mode": "theirs"})
    assert theirs.status == 400
    assert fake_openai.requests == [] and await Message.objects.acount() == 0
