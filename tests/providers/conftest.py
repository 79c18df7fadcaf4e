"""Providers under test talk real HTTP, through the real SDKs, to the fake upstreams."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from apps.providers.anthropic_provider import AnthropicProvider
from apps.providers.base import ChatMessage, ProviderError, ProviderEvent, ProviderRequest
from apps.providers.openai_provider import OpenAIProvider
from tests.fakes import fixtures as fake_fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY
from tests.fakes.openai_server import FakeOpenAI

# The fake-upstream fixtures, made visible to this package's tests.
fake_openai = fake_fixtures.fake_openai
fake_anthropic = fake_fixtures.fake_anthropic
fake_openai_settings = fake_fixtures.fake_openai_settings
fake_anthropic_settings = fake_fixtures.fake_anthropic_settings

TRANSPORTS = ["aiohttp", "httpx"]


@pytest.fixture(params=TRANSPORTS)
async def openai_provider(request: pytest.FixtureRequest, fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    provider = OpenAIProvider(api_key=FAKE_OPENAI_KEY, base_url=fake_openai.base_url, transport=request.param)
    yield provider
    await provider.aclose()


@pytest.fixture(params=TRANSPORTS)
async def anthropic_provider(request: pytest.FixtureRequest,
                             fake_anthropic: FakeAnthropic) -> AsyncIterator[AnthropicProvider]:
    provider = AnthropicProvider(api_key=FAKE_ANTHROPIC_KEY, base_url=fake_anthropic.base_url,
                                 transport=request.param,
                                 max_output_tokens={"claude-small": 2000, "claude-big": 64_000})
    yield provider
    await provider.aclose()


def user_request(text: str = "Design a library system", **kwargs: object) -> ProviderRequest:
    return ProviderRequest(model=str(kwargs.pop("model", "test-model")),
                           messages=[ChatMessage(role="user", content=text)], **kwargs)  # type: ignore[arg-type]


async def collect(stream: AsyncIterator[ProviderEvent]) -> list[ProviderEvent]:
    return [event async for event in stream]


async def collect_until_error(stream: AsyncIterator[ProviderEvent]) -> tuple[list[ProviderEvent], ProviderError]:
    events: list[ProviderEvent] = []
    with pytest.raises(ProviderError) as caught:
        async for event in stream:
            events.append(event)
    return events, caught.value
