"""Tenant isolation and authentication over every row of routes.ROUTES, on a live server.

* Tenant B's key on tenant A's objects: a 404 whose status, headers' content type and body
  are those of an id that exists nowhere (modulo the id itself) — SSE and WebSocket alike.
* No key, a malformed key, a revoked key: the dialect's 401 (403 where documented), no data.
"""
from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from apps.core.models import ApiKey
from apps.core.services import api_key_create, api_key_revoke
from apps.knowledge.models import Document
from apps.plans.models import Plan
from apps.projects.models import CustomMode, Project, ProjectFile
from tests.security.conftest import Answer, World, WsAnswer, call, ws_exchange
from tests.security.routes import ROUTES, RouteSpec, error_code, fill_template, ws_error_code

pytestmark = pytest.mark.django_db(transaction=True)


async def send(live: Any, spec: RouteSpec, ids: dict[str, str], key: str | None,
               headers: dict[str, str] | None = None, await_close: bool = False) -> Answer | WsAnswer:
    if spec.kind == "ws":
        return await ws_exchange(live, spec.url(ids), key=key, frame=spec.filled_frame(ids), await_close=await_close,
                                 timeout=5.0 if spec.frame is not None else 1.0,
                                 headers={**fill_template(spec.headers, ids), **(headers or {})})
    return await call(live, spec.method, spec.url(ids), key=key, body=spec.filled_body(ids),
                      headers={**fill_template(spec.headers, ids), **(headers or {})})


def _mask(text: str, ids: dict[str, str]) -> str:
    for name in ("project", "chat", "run", "document", "key", "plan", "attachment", "mode", "path"):
        text = text.replace(ids[name], f"<{name}>")
    return text


def _fingerprint(answer: Answer | WsAnswer, ids: dict[str, str]) -> Any:
    if isinstance(answer, WsAnswer):
        return answer.close_code, _mask(repr(answer.frames), ids)
    return answer.status, answer.headers.get("Content-Type"), _mask(answer.text, ids)


def _snapshot(world: World) -> tuple[Any, ...]:
    workspace = world.owner.workspace
    return (
        list(Project.objects.filter(workspace=workspace).values_list("id", "name", "updated_at")),
        list(Chat.objects.filter(project__workspace=workspace).values_list("id", "title", "mode")),
        Message.objects.filter(chat__project__workspace=workspace).count(),
        list(Run.objects.filter(chat__project__workspace=workspace).values_list("id", "status")),
        Document.objects.filter(project__workspace=workspace).count(),
        list(ApiKey.objects.filter(workspace=workspace).values_list("id", "revoked_at")),
        list(Plan.objects.filter(project__workspace=workspace).values_list("id", "status", "updated_at")),
        list(CustomMode.objects.filter(project__workspace=workspace).values_list("name", "system_prompt")),
        list(ProjectFile.objects.filter(project__workspace=workspace).values_list("path", "version")),
    )


def _is_not_found(spec: RouteSpec, answer: Answer | WsAnswer) -> bool:
    if isinstance(answer, WsAnswer):
        return bool(answer.frames) and str(ws_error_code(spec.shape, answer.frames[0])).lower() == "not_found"
    return answer.status == 404 and str(error_code(spec.shape, answer.body)).lower() == "not_found"


SCOPED = [spec for spec in ROUTES if spec.scoped]


async def test_another_workspace_object_is_a_404_like_a_missing_one(asgi_server, world, fake_openai):
    before = await sync_to_async(_snapshot)(world)
    attacker_ids = {**world.ids, "own_project": str(world.attacker.project.pk)}
    missing_ids = {**world.missing_ids(), "own_project": str(world.attacker.project.pk)}
    failures = []
    for spec in SCOPED:
        foreign = await send(asgi_server, spec, attacker_ids, world.attacker.raw_key)
        missing = await send(asgi_server, spec, missing_ids, world.attacker.raw_key)
        if not _is_not_found(spec, foreign):
            failures.append(f"{spec.id}: foreign object gave {foreign}")
        elif _fingerprint(foreign, attacker_ids) != _fingerprint(missing, missing_ids):
            failures.append(f"{spec.id}: foreign {foreign} differs from missing {missing}")
    assert not failures, "\n".join(failures)
    assert fake_openai.requests == []  # nothing reached the provider
    assert await sync_to_async(_snapshot)(world) == before  # nothing changed on the owner's side
    assert len(SCOPED) >= 40


def _owner_ok(spec: RouteSpec, answer: Answer | WsAnswer) -> bool:
    if isinstance(answer, WsAnswer):
        return not any(ws_error_code(spec.shape, frame) for frame in answer.frames) and (
            answer.close_code is None or answer.close_code < 4000)
    return answer.status < 400


async def test_the_owner_reaches_the_same_routes(asgi_server, world, fake_openai):
    """The 404s above are about scope, not broken routes: the owner's key gets an answer."""
    ids = {**world.ids, "own_project": world.ids["project"]}
    failures = []
    checked = 0
    for spec in SCOPED:
        if spec.starts_run or spec.destructive:
            continue
        answer = await send(asgi_server, spec, ids, world.owner.raw_key)
        checked += 1
        if not _owner_ok(spec, answer):
            failures.append(f"{spec.id}: {answer}")
    assert not failures, "\n".join(failures)
    assert checked >= 25


BAD_KEYS = {
    "missing": {},
    "malformed X-API-Key": {"X-API-Key": "not-a-key"},
    "malformed bearer": {"Authorization": "Bearer bp_" + "x" * 43},
    "wrong scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
}


def _revoked_key(world: World) -> str:
    created = api_key_create(workspace=world.owner.workspace, user=world.owner.user, name="revoked")
    api_key_revoke(api_key=created.api_key)
    return created.raw_key


def _leaks(text: str, world: World) -> list[str]:
    secrets = [*world.ids.values(), "Secret plan", world.owner.project.name, world.owner.api_key.prefix]
    return [secret for secret in secrets if secret in text and secret not in ("prd",) and len(secret) > 3]


async def test_missing_malformed_and_revoked_keys_get_the_dialect_401_and_no_data(asgi_server, world, fake_openai):
    revoked = await sync_to_async(_revoked_key)(world)
    cases = {**BAD_KEYS, "revoked": {"X-API-Key": revoked}}
    ids = {**world.ids, "own_project": world.ids["project"]}
    failures = []
    for spec in ROUTES:
        for label, headers in cases.items():
            answer = await send(asgi_server, spec, ids, None, headers=headers, await_close=True)
            if isinstance(answer, WsAnswer):
                code = ws_error_code(spec.shape, answer.frames[0]) if answer.frames else None
                ok = code is not None and answer.close_code == 4401 and len(answer.frames) == 1
                leaked = _leaks(repr(answer.frames), world)
            else:
                ok = answer.status == spec.unauthenticated and error_code(spec.shape, answer.body) is not None
                leaked = _leaks(answer.text, world)
            if not ok or leaked:
                failures.append(f"{spec.id} [{label}]: {answer} leaked={leaked}")
    assert not failures, "\n".join(failures)
    assert fake_openai.requests == []
