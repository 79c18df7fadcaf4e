"""Engine test fixtures: fast intervals, a tenant, a fake OpenAI upstream configured as the model."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat
from apps.engine import db as engine_db
from apps.engine.api import RunRequest
from apps.engine.runtime import get_runtime
from tests.conftest import Tenant, make_tenant
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.script import Script

FAKE_MODEL = "gpt-4o"


@pytest.fixture
def fast_engine(settings: Any) -> Any:
    settings.ENGINE_FLUSH_INTERVAL_MS = 50
    settings.ENGINE_MESSAGE_FLUSH_INTERVAL_MS = 300
    settings.ENGINE_HEARTBEAT_INTERVAL_S = 0.2
    settings.ENGINE_STALE_AFTER_S = 1.0
    settings.ENGINE_REAPER_INTERVAL_S = 0.2
    settings.ENGINE_SUBSCRIBER_POLL_S = 0.2
    settings.PROVIDER_RETRY_BASE_DELAY_S = 0.01
    settings.PROVIDER_IDLE_TIMEOUT_S = 10
    settings.RATE_LIMIT_PER_MINUTE = 1000
    settings.OFFLINE_TOKEN_DELAY_MS = 0
    return settings


@pytest.fixture
async def runtime_cleanup() -> AsyncIterator[None]:
    yield
    from apps.providers.registry import aclose_providers

    await get_runtime().close()
    await aclose_providers()


@pytest.fixture(scope="session", autouse=True)
def _close_engine_connections() -> Any:
    yield
    engine_db.shutdown()


@pytest.fixture
async def fake_openai(fast_engine: Any) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        fast_engine.OPENAI_API_KEY = "sk-test"
        fast_engine.OPENAI_BASE_URL = fake.base_url
        yield fake


@pytest.fixture
async def tenant_async(transactional_db: Any, fast_engine: Any, runtime_cleanup: Any) -> Tenant:
    return await sync_to_async(make_tenant)("engine")


async def default_chat(tenant: Tenant) -> Chat:
    return await Chat.objects.select_related("project").aget(project=tenant.project, is_default=True)


async def make_request(tenant: Tenant, text: str = "I need a blog with posts, authors, and comments",
                       **kwargs: Any) -> RunRequest:
    chat = kwargs.pop("chat", None) or await default_chat(tenant)
    return RunRequest(principal=await sync_to_async(_principal)(tenant), chat=chat, text=text, **kwargs)


def _principal(tenant: Tenant) -> Any:
    from apps.core.auth import resolve_api_key

    return resolve_api_key(tenant.raw_key)


async def collect(sub: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for event in sub:
            events.append(event)
    sub.close()
    return events


def text_script(n: int = 20, delay: float = 0.0, **kwargs: Any) -> Script:
    return Script(text=[f"tok{i} " for i in range(n)], token_delay=delay, **kwargs)
