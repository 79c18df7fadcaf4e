"""A client's tool_choice reaches the upstream in each provider's spelling."""
from __future__ import annotations

import pytest

from apps.providers.anthropic_provider import anthropic_tool_choice
from apps.providers.base import ProviderRequest, ToolSpec
from tests.fakes.script import Script, ToolCallScript
from tests.providers.conftest import collect, user_request

TOOL = ToolSpec("get_weather", "The weather.", {"type": "object", "properties": {}})
FORCED = {"type": "function", "function": {"name": "get_weather"}}


def with_tools(choice: object) -> ProviderRequest:
    request = user_request()
    request.tools = [TOOL]
    request.tool_choice = choice
    return request


@pytest.mark.parametrize("choice", ["auto", "required", "none", FORCED])
async def test_openai_sends_tool_choice_as_given(openai_provider, fake_openai, choice):
    fake_openai.set_script(Script(tool_calls=[ToolCallScript(name="get_weather", arguments="{}")]))
    await collect(openai_provider.stream(with_tools(choice)))
    assert fake_openai.last_request.body["tool_choice"] == choice


async def test_openai_leaves_tool_choice_out_by_default(openai_provider, fake_openai):
    fake_openai.set_script(Script.from_text("ok"))
    await collect(openai_provider.stream(with_tools(None)))
    assert "tool_choice" not in fake_openai.last_request.body


@pytest.mark.parametrize(("choice", "expected"), [
    ("auto", {"type": "auto"}), ("required", {"type": "any"}), ("none", {"type": "none"}),
    (FORCED, {"type": "tool", "name": "get_weather"}), (None, None),
])
async def test_anthropic_spelling(anthropic_provider, fake_anthropic, choice, expected):
    assert anthropic_tool_choice(choice) == expected
    fake_anthropic.set_script(Script.from_text("ok"))
    request = with_tools(choice)
    request.model = "claude-big"
    await collect(anthropic_provider.stream(request))
    assert fake_anthropic.last_request.body.get("tool_choice") == expected
