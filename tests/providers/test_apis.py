"""GET /api/models."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def no_keys(settings):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY",
                 "OPENAI_MODELS", "OPENROUTER_MODELS", "DEFAULT_MODEL"):
        setattr(settings, name, "")
    return settings


@pytest.mark.django_db
def test_models_needs_authentication(no_keys):
    response = APIClient().get("/api/models")
    assert response.status_code in (401, 403)


@pytest.mark.django_db
def test_models_lists_the_registry_with_availability_and_prices(tenant, no_keys):
    response = tenant.client.get("/api/models")

    assert response.status_code == 200
    body = response.json()
    assert body["default"] == "offline"
    models = {m["id"]: m for m in body["models"]}
    assert models["offline"] == {"id": "offline", "provider": "offline", "contextWindow": 32_768,
                                 "maxOutputTokens": 4_096, "available": True,
                                 "pricing": {"input": 0.0, "output": 0.0}, "upstreamModel": "offline",
                                 "note": models["offline"]["note"]}
    assert models["gpt-5"]["available"] is False
    assert models["gpt-5"]["pricing"] == {"input": 1.25, "output": 10.0}
    assert models["anthropic/claude-3.5-sonnet"]["provider"] == "openrouter"


@pytest.mark.django_db
def test_models_follow_the_configured_keys(tenant, no_keys):
    no_keys.ANTHROPIC_API_KEY = "sk-ant"

    body = tenant.client.get("/api/models").json()

    assert body["default"] == "claude-sonnet-5.5"
    models = {m["id"]: m for m in body["models"]}
    assert models["claude-sonnet-5.5"]["available"] is True
    assert models["claude-sonnet-5.5"]["contextWindow"] == 1_000_000
    retired = models["anthropic/claude-3.5-sonnet"]
    assert (retired["provider"], retired["upstreamModel"]) == ("anthropic", "claude-sonnet-4-6")
    assert "retired" in retired["note"]
