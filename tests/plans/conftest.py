"""Plan tests: the live ASGI server, fake upstreams and helpers for the plan endpoints."""
from __future__ import annotations

import json
from typing import Any

from tests.engine.conftest import fake_openai, fast_engine, runtime_cleanup, tenant_async  # noqa: F401
from tests.streaming.conftest import SSEEvent, asgi_server, read_sse  # noqa: F401


def headers(tenant: Any) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json"}


async def post(live: Any, tenant: Any, path: str, body: dict[str, Any] | str | None = None) -> Any:
    data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return await live.session.post(f"{live.url}{path}", data=data, headers=headers(tenant))


async def get(live: Any, tenant: Any, path: str) -> Any:
    return await live.session.get(f"{live.url}{path}", headers=headers(tenant))


async def stream(live: Any, tenant: Any, path: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """POST, expect an SSE answer, return its events' data (bounded by the session's timeout)."""
    response = await post(live, tenant, path, body)
    assert response.status == 200, await response.text()
    events: list[SSEEvent] = await read_sse(response)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    return [e.data for e in events]


def of_type(events: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == type_]
