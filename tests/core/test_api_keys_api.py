"""REST: /api/api-keys — the raw key is returned once, then only its prefix."""
from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from apps.core.auth import hash_api_key
from apps.core.models import ApiKey

pytestmark = pytest.mark.django_db


def test_create_returns_the_key_once_and_it_works(tenant, caplog):
    caplog.set_level(logging.DEBUG)
    response = tenant.client.post("/api/api-keys", {"name": "ci"}, format="json")
    assert response.status_code == 201
    body = response.json()
    raw = body["key"]
    assert raw.startswith("bp_") and raw.startswith(body["prefix"]) and len(raw) > len(body["prefix"]) + 20
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hash_api_key(raw) and stored.workspace == tenant.workspace
    assert raw not in caplog.text and stored.key_hash not in caplog.text

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/projects").status_code == 200

    listed = tenant.client.get("/api/api-keys").content.decode()
    assert raw not in listed and stored.key_hash not in listed
    assert body["prefix"] in listed


def test_list_shows_prefix_and_state_only(tenant, other_tenant):
    keys = tenant.client.get("/api/api-keys").json()["apiKeys"]
    assert [k["id"] for k in keys] == [str(tenant.api_key.pk)]
    assert set(keys[0]) == {"id", "name", "prefix", "active", "createdAt", "lastUsedAt", "revokedAt"}
    assert keys[0]["active"] is True


def test_revoke_then_the_key_is_refused(tenant):
    created = tenant.client.post("/api/api-keys", {}, format="json").json()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=created["key"])
    assert client.get("/api/projects").status_code == 200

    assert tenant.client.delete(f"/api/api-keys/{created['id']}").status_code == 204
    response = client.get("/api/projects")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    # Revoking again is harmless.
    assert tenant.client.delete(f"/api/api-keys/{created['id']}").status_code == 204
    listed = {k["id"]: k for k in tenant.client.get("/api/api-keys").json()["apiKeys"]}
    assert listed[created["id"]]["active"] is False and listed[created["id"]]["revokedAt"]


def test_create_rejects_a_long_name(tenant):
    response = tenant.client.post("/api/api-keys", {"name": "n" * 101}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "name"
