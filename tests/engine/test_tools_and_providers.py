"""Tool calls through the engine (mode rules, file tools) and the Anthropic path end to end."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apps.chats.models import Message
from apps.engine import api as engine
from apps.projects.models import ProjectFile
from tests.engine.conftest import FAKE_MODEL, collect, default_chat, make_request, text_script
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.script import Script, ToolCallScript

pytestmark = pytest.mark.django_db(transaction=True)


def tool_script(name: str, args: dict[str, Any], call_id: str = "call_1") -> Script:
    return Script(text=["Let me do that. "], tool_calls=[ToolCallScript(name=name, arguments=json.dumps(args),
                                                                        id=call_id, fragment_size=3)])


async def test_a_tool_the_mode_does_not_allow_is_refused_with_tool_error(tenant_async, fake_openai):
    fake_openai.enqueue(tool_script("write_file", {"path": "evil.txt", "content": "x"}))
    fake_openai.set_script(text_script(2))
    handle = await engine.start_run(await make_request(tenant_async, "write a file", model=FAKE_MODEL,
                                                       mode="plan"))
    events = await collect(await engine.subscribe(handle.run_id))
    call = next(e for e in events if e["type"] == "tool.call")
    assert call["tool"] == "write_file" and call["args"] == {"path": "evil.txt", "content": "x"}
    error = next(e for e in events if e["type"] == "tool.error")
    assert error["id"] == call["id"] and "not allowed in plan mode" in error["error"]
    assert not await ProjectFile.objects.filter(path="evil.txt").aexists()
    # The model saw the refusal as the tool's result in its next turn.
    second = fake_openai.requests[1].body["messages"]
    assert second[-1]["role"] == "tool" and "not allowed" in second[-1]["content"]
    assert events[-1]["status"] == "completed"


async def test_build_mode_writes_files_and_paths_never_leave_the_project(tenant_async, fake_openai):
    fake_openai.enqueue(tool_script("write_file", {"path": "src/app.py", "content": "print(1)"}, "c1"))
    fake_openai.enqueue(tool_script("write_file", {"path": "../etc/passwd", "content": "x"}, "c2"))
    fake_openai.enqueue(tool_script("read_file", {"path": "/etc/passwd"}, "c3"))
    fake_openai.set_script(text_script(2))
    handle = await engine.start_run(await make_request(tenant_async, "build it", model=FAKE_MODEL, mode="build"))
    events = await collect(await engine.subscribe(handle.run_id))
    results = {e["id"]: e for e in events if e["type"] in ("tool.result", "tool.error")}
    assert results["c1"]["type"] == "tool.result" and results["c1"]["result"]["version"] == 1
    assert results["c2"]["type"] == "tool.error" and "leaves the project" in results["c2"]["error"]
    assert results["c3"]["type"] == "tool.error"
    assert [f async for f in ProjectFile.objects.values_list("path", "content")] == [("src/app.py", "print(1)")]
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert [c["tool"] for c in message.parts["toolCalls"]] == ["write_file", "write_file", "read_file"]


@pytest.fixture
async def fake_anthropic(fast_engine: Any) -> AsyncIterator[FakeAnthropic]:
    async with FakeAnthropic() as fake:
        fast_engine.ANTHROPIC_API_KEY = "sk-ant-test"
        fast_engine.ANTHROPIC_BASE_URL = fake.base_url
        yield fake


async def test_anthropic_thinking_streams_reasoning_deltas_and_usage(tenant_async, fake_anthropic):
    fake_anthropic.set_script(Script(reasoning=["Thinking ", "hard."], text=["Use ", "Postgres."],
                                     usage=(300, 40)))
    handle = await engine.start_run(await make_request(tenant_async, "which database?", model="claude-sonnet-4",
                                                       reasoning=True))
    events = await collect(await engine.subscribe(handle.run_id))
    assert "".join(e["delta"] for e in events if e["type"] == "assistant.reasoning_delta") == "Thinking hard."
    assert next(e for e in events if e["type"] == "assistant.message")["text"] == "Use Postgres."
    usage = next(e for e in events if e["type"] == "session.usage_info")
    assert (usage["inputTokens"], usage["outputTokens"]) == (300, 40)
    assert "thinking" in fake_anthropic.last_request.body
    message = await Message.objects.aget(pk=handle.assistant_message_id)
    assert message.parts["reasoning"] == "Thinking hard." and message.provider == "anthropic"


async def test_anthropic_overload_mid_stream_is_a_retryable_error_event(tenant_async, fake_anthropic):
    fake_anthropic.set_script(Script(text=["a ", "b ", "c ", "d "], error_after=2, error_type="overloaded_error"))
    handle = await engine.start_run(await make_request(tenant_async, "hi", model="claude-sonnet-4"))
    events = await collect(await engine.subscribe(handle.run_id))
    assert (events[-1]["type"], events[-1]["error"], events[-1]["retry"]) == ("error", "stream_interrupted", True)
    assert (await Message.objects.aget(pk=handle.assistant_message_id)).content == "a b "


async def test_known_model_without_a_key_is_no_provider(tenant_async):
    from apps.core.errors import NoProvider

    chat = await default_chat(tenant_async)
    with pytest.raises(NoProvider):
        await engine.start_run(await make_request(tenant_async, "hi", model="claude-sonnet-4", chat=chat))
