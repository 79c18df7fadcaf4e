"""Authentication: API keys (X-API-Key, Bearer), sessions with CSRF, and create_api_key."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import ApiKey, Workspace
from tests.conftest import make_tenant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _assert_401(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == "unauthenticated"
    assert body["error"]["message"]


def test_x_api_key_header(tenant):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=tenant.raw_key)
    assert client.get("/api/projects").status_code == 200


def test_authorization_bearer(tenant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.raw_key}")
    assert client.get("/api/projects").status_code == 200


def test_missing_credentials_is_401_json(db):
    _assert_401(APIClient().get("/api/projects"))


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_X_API_KEY": "bp_wrong"}, {"HTTP_AUTHORIZATION": "Bearer bp_wrong"},
     {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="}],
)
def test_wrong_key_is_401_json(tenant, headers):
    client = APIClient()
    client.credentials(**headers)
    _assert_401(client.get("/api/projects"))


def test_revoked_key_is_401_json(tenant):
    ApiKey.objects.filter(pk=tenant.api_key.pk).update(revoked_at=timezone.now())
    _assert_401(tenant.client.get("/api/projects"))
    _assert_401(tenant.client.post("/api/projects", {"name": "x"}, format="json"))


def test_api_key_needs_no_csrf(tenant):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_X_API_KEY=tenant.raw_key)
    assert client.post("/api/projects", {"name": "by key"}, format="json").status_code == 201


def _csrf_token(client: APIClient) -> str:
    client.get("/admin/login/")  # any page rendering a form sets the CSRF cookie
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def test_session_auth_reads_and_enforces_csrf_on_writes(tenant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(tenant.user)
    listed = client.get("/api/projects").json()["projects"]
    assert [p["id"] for p in listed] == [str(tenant.project.pk)]

    response = client.post("/api/projects", {"name": "no token"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    response = client.delete(f"/api/projects/{tenant.project.pk}")
    assert response.status_code == 403

    token = _csrf_token(client)
    response = client.post("/api/projects", {"name": "with token"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_session_user_without_a_workspace_is_401(db):
    client = APIClient()
    client.force_login(UserFactory(username="loner"))
    _assert_401(client.get("/api/projects"))


@pytest.mark.django_db(transaction=True)
async def test_session_write_through_the_asgi_stack_requires_csrf():
    from config.asgi import application

    tenant = await sync_to_async(make_tenant)("asgi-csrf")
    browser = Client()
    await sync_to_async(browser.force_login)(tenant.user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    body = b'{"name": "forged"}'
    communicator = HttpCommunicator(
        application, "POST", "/api/projects", body=body,
        headers=[(b"host", b"testserver"), (b"cookie", f"sessionid={session}".encode()),
                 (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    )
    response = await communicator.get_response()
    assert response["status"] == 403


def _database_url_of_test_db() -> str:
    params = connection.settings_dict
    return (f"postgres://{params['USER']}@/{params['NAME']}"
            f"?host={quote(params['HOST'], safe='')}&port={params['PORT']}")


@pytest.mark.django_db(transaction=True)
def test_create_api_key_command_prints_a_working_key_on_the_last_line():
    env = {**os.environ, "DATABASE_URL": _database_url_of_test_db(),
           "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "--workspace", "cli-team"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )
    lines = result.stdout.rstrip("\n").split("\n")
    raw = lines[-1]
    assert raw.startswith("bp_") and " " not in raw
    assert Workspace.objects.filter(name="cli-team").exists()

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    response = client.post("/api/projects", {"name": "from the cli key"}, format="json")
    assert response.status_code == 201
    assert Workspace.objects.get(name="cli-team").projects.filter(name="from the cli key").exists()


def test_resolved_keys_are_cached_briefly_and_revocation_clears_the_cache(db, settings):
    from django.test.utils import CaptureQueriesContext

    from apps.core.auth import resolve_api_key
    from apps.core.errors import AuthenticationFailed
    from apps.core.services import api_key_revoke

    settings.API_KEY_CACHE_SECONDS = 60
    tenant = make_tenant("cached")
    resolve_api_key(tenant.raw_key)
    with CaptureQueriesContext(connection) as queries:
        assert resolve_api_key(tenant.raw_key).workspace == tenant.workspace
    assert len(queries) == 0
    api_key_revoke(api_key=tenant.api_key)
    with pytest.raises(AuthenticationFailed):
        resolve_api_key(tenant.raw_key)


@pytest.mark.django_db(transaction=True)
async def test_key_requests_skip_the_session_middleware_and_browsers_keep_it():
    from apps.core.auth import PrincipalMiddleware

    tenant = await sync_to_async(make_tenant)("middleware")
    browser = Client()
    await sync_to_async(browser.force_login)(tenant.user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    seen: list[dict] = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope)

    app = PrincipalMiddleware(inner)
    base = {"type": "http", "method": "GET", "path": "/", "query_string": b""}
    await app({**base, "headers": [(b"x-api-key", tenant.raw_key.encode())]}, None, None)
    await app({**base, "headers": [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())]}, None, None)
    await app({**base, "headers": [(b"x-api-key", b"bp_not-a-key")]}, None, None)
    by_key, by_session, bad_key = seen
    assert by_key["principal"].api_key == tenant.api_key and "session" not in by_key
    assert by_session["principal"].via_session and by_session["principal"].workspace == tenant.workspace
    assert "session" in by_session
    assert by_key["auth_error"] is None and by_session["auth_error"] is None
    assert bad_key["principal"] is None and bad_key["auth_error"].code == "invalid_api_key"
