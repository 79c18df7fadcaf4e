"""CSRF on every session-authenticated write (REST and streaming), on a live server.

A logged-in browser session without the X-CSRFToken header gets a 403 on every unsafe row
of routes.ROUTES; with the token the same request gets past CSRF (a 404 on a missing id,
or the route's own answer) — never a 403.
"""
from __future__ import annotations

import secrets
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from tests.security.conftest import World, call
from tests.security.routes import ROUTES, fill_template

pytestmark = pytest.mark.django_db(transaction=True)

UNSAFE = [spec for spec in ROUTES if spec.method in ("POST", "PUT", "PATCH", "DELETE")]


def _session_cookie(world: World) -> str:
    client = Client()
    client.force_login(world.owner.user)  # type: ignore[arg-type]
    return client.cookies["sessionid"].value


async def test_every_unsafe_route_needs_the_csrf_token_with_a_session(asgi_server, world, fake_openai):
    session = await sync_to_async(_session_cookie)(world)
    token = secrets.token_hex(16)  # 32 characters: a valid unmasked token
    missing = {**world.missing_ids(), "own_project": world.ids["project"]}
    failures: list[str] = []
    for spec in UNSAFE:
        url, body = spec.url(missing), spec.filled_body(missing)
        cookie = f"sessionid={session}; csrftoken={token}"
        extra = fill_template(spec.headers, missing)
        without = await call(asgi_server, spec.method, url, body=body, headers={**extra, "Cookie": cookie})
        wrong = await call(asgi_server, spec.method, url, body=body,
                           headers={**extra, "Cookie": cookie, "X-CSRFToken": secrets.token_hex(16)})
        if without.status != 403 or wrong.status != 403:
            failures.append(f"{spec.id}: without token {without.status}, wrong token {wrong.status}")
        if spec.starts_run and not spec.scoped:
            # Its ids are the client's own (created on first use): with the token it would start a
            # real run; what CSRF decides is shown by the two refusals above.
            continue
        with_token = await call(asgi_server, spec.method, url, body=body,
                                headers={**extra, "Cookie": cookie, "X-CSRFToken": token})
        if with_token.status in (401, 403) or with_token.status >= 500:
            failures.append(f"{spec.id}: with the token {with_token.status} {with_token.text[:200]}")
    assert not failures, "\n".join(failures)
    assert len(UNSAFE) >= 15
    assert fake_openai.requests == []


async def test_a_session_reads_without_a_token(asgi_server, world: Any):
    session = await sync_to_async(_session_cookie)(world)
    answer = await call(asgi_server, "GET", "/api/projects", headers={"Cookie": f"sessionid={session}"})
    assert answer.status == 200 and world.ids["project"] in answer.text


WS_PATHS = ["/api/chat/{project}/ws", "/api/chat/ws"]


async def test_a_cross_site_websocket_with_the_session_is_refused(asgi_server, world):
    """Cross-site WebSocket hijacking: a browser on another origin carries the session cookie."""
    import aiohttp

    session = await sync_to_async(_session_cookie)(world)
    for template in WS_PATHS:
        url = asgi_server.ws_url(template.replace("{project}", world.ids["project"]))
        cookie = {"Cookie": f"sessionid={session}"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await asgi_server.session.ws_connect(url, headers={**cookie, "Origin": "https://evil.example"})
        assert refused.value.status == 403
        # The same session from the site's own origin is let in and authenticated.
        socket = await asgi_server.session.ws_connect(url, headers={**cookie, "Origin": "http://127.0.0.1"})
        try:
            await socket.send_json({"type": "stop", "chatId": world.ids["chat"]})
            frame = await socket.receive_json(timeout=5)
            assert frame.get("type") in ("stop.ack", "stopped"), frame
        finally:
            await socket.close()
