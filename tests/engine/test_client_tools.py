"""Client-defined tools (RunRequest.client_tools): offered to the model, handed back unexecuted."""
from __future__ import annotations

import json

import pytest

from apps.chats.models import Message, Run
from apps.domain.models import DomainModelVersion
from apps.engine import api as engine
from apps.providers.base import ToolSpec
from tests.engine.conftest import FAKE_MODEL, collect, make_request
from tests.engine.test_runs import assert_well_formed
from tests.fakes.script import Script, ToolCallScript

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER = ToolSpec(name="get_weather", description="The weather in a city.",
                   parameters={"type": "object", "properties": {"city": {"type": "string"}}})
ENTITY = json.dumps({"entities": {"Trip": {"fields": {"city": {"type": "string"}}}}})


async def test_a_client_tool_call_ends_the_run_unexecuted_and_blueprints_own_tools_still_run(tenant_async,
                                                                                           fake_openai):
    fake_openai.set_script(Script(text=["Checking. "], tool_calls=[
        ToolCallScript(name="update_domain_model", arguments=ENTITY, id="call_dsl"),
        ToolCallScript(name="get_weather", arguments='{"city": "Oslo"', id="call_w")]))  # cut-off JSON
    handle = await engine.start_run(await make_request(tenant_async, "Plan a trip to Oslo", model=FAKE_MODEL,
                                                       client_tools=[WEATHER], tool_choice="required"))
    events = await collect(await engine.subscribe(handle.run_id))
    assert_well_formed(events)
    client_calls = [e for e in events if e["type"] == "tool.call" and e.get("client")]
    assert [(e["id"], e["tool"], e["args"], e["arguments"]) for e in client_calls] == [
        ("call_w", "get_weather", '{"city": "Oslo"', '{"city": "Oslo"')]
    assert not [e for e in events if e["type"] in ("tool.result", "tool.error") and e["id"] == "call_w"]
    assert any(e["type"] == "tool.result" and e["id"] == "call_dsl" for e in events)
    assert events[-1]["type"] == "session.task_complete" and events[-1]["status"] == "completed"
    assert len(fake_openai.requests) == 1  # no round after the client's call
    sent = fake_openai.requests[0].body
    assert sent["tool_choice"] == "required"
    assert {"get_weather", "update_domain_model"} <= {t["function"]["name"] for t in sent["tools"]}
    assert await DomainModelVersion.objects.filter(chat_id=handle.chat_id).aexists()
    run = await Run.objects.aget(pk=handle.run_id)
    message = await Message.objects.aget(pk=run.assistant_message_id)
    assert run.status == "completed" and message.content == "Checking. "
    assert sorted(c["tool"] for c in message.parts["toolCalls"]) == ["get_weather", "update_domain_model"]


async def test_without_client_tools_nothing_changes(tenant_async, fake_openai):
    fake_openai.set_script(Script.from_text("Plain answer."))
    handle = await engine.start_run(await make_request(tenant_async, "hi", model=FAKE_MODEL, enable_dsl=False))
    events = await collect(await engine.subscribe(handle.run_id))
    assert "tool_choice" not in fake_openai.requests[0].body
    assert not [e for e in events if e["type"] == "tool.call"]
