"""The model registry: names → provider and upstream id, defaults, errors, provider objects."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from apps.core.errors import InvalidModel, NoProvider
from apps.providers import registry
from apps.providers.anthropic_provider import AnthropicProvider
from apps.providers.base import TextDelta
from apps.providers.openai_provider import OpenAIProvider
from apps.providers.registry import (
    aclose_providers,
    all_models,
    available_models,
    default_model_name,
    get_provider,
    resolve_model,
)
from tests.fakes.script import Script
from tests.providers.conftest import collect, user_request

REQUIRED_NAMES = {"offline", "gpt-5", "gpt-5-mini", "gpt-4o", "gpt-4-turbo", "claude-sonnet-4", "claude-opus-4",
                  "claude-3.5-sonnet", "anthropic/claude-3.5-sonnet"}


@pytest.fixture
def no_keys(settings):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                 "OPENROUTER_API_KEY", "OPENAI_MODELS", "OPENROUTER_MODELS", "DEFAULT_MODEL"):
        setattr(settings, name, "")
    return settings


def test_the_registry_knows_the_required_names(no_keys):
    assert REQUIRED_NAMES <= {info.name for info in all_models()}


def test_without_keys_only_offline_is_available_and_the_default(no_keys):
    assert default_model_name() == "offline"
    assert [info.name for info in available_models()] == ["offline"]
    info = resolve_model(None)
    assert (info.name, info.provider, info.available) == ("offline", "offline", True)
    assert resolve_model("") == info


def test_an_unknown_name_is_invalid_model_listing_the_available_ones(no_keys):
    no_keys.ANTHROPIC_API_KEY = "sk-ant"
    with pytest.raises(InvalidModel) as caught:
        resolve_model("gpt-17")

    error = caught.value
    assert error.code == "INVALID_MODEL" and error.status == 400
    available = error.extra["availableModels"]
    assert "offline" in available and "claude-sonnet-4" in available and "claude-sonnet-5.5" in available
    assert "gpt-4o" not in available  # known but not configured


def test_a_known_model_without_its_provider_is_no_provider(no_keys):
    with pytest.raises(NoProvider) as caught:
        resolve_model("gpt-5")
    assert caught.value.code == "no_provider"
    assert "OPENAI_API_KEY" in caught.value.message


def test_anthropic_key_routes_claude_names_natively(no_keys):
    no_keys.ANTHROPIC_API_KEY = "sk-ant"

    assert default_model_name() == "claude-sonnet-5.5"
    info = resolve_model("claude-sonnet-5.5")
    assert (info.provider, info.upstream_model) == ("anthropic", "claude-sonnet-5-5")
    assert (info.context_window, info.max_output_tokens) == (1_000_000, 128_000)
    haiku = resolve_model("claude-haiku-4.5")
    assert (haiku.upstream_model, haiku.context_window, haiku.max_output_tokens) == (
        "claude-haiku-4-5", 200_000, 64_000)
    # An OpenRouter-style name falls back to the vendor's own API without an OpenRouter key.
    routed = resolve_model("anthropic/claude-sonnet-4.6")
    assert (routed.provider, routed.upstream_model) == ("anthropic", "claude-sonnet-4-6")


def test_retired_seed_names_are_served_by_a_live_model_and_say_so(no_keys):
    no_keys.ANTHROPIC_API_KEY = "sk-ant"

    for name in ("claude-sonnet-4", "claude-3.5-sonnet", "anthropic/claude-3.5-sonnet"):
        info = resolve_model(name)
        assert (info.name, info.provider, info.upstream_model) == (name, "anthropic", "claude-sonnet-4-6")
        assert info.family == "claude-sonnet-4.6"
        assert info.note
    assert resolve_model("claude-opus-4").upstream_model == "claude-opus-4-8"


def test_openrouter_key_routes_vendor_names_and_bare_names_through_openrouter(no_keys):
    no_keys.OPENROUTER_API_KEY = "sk-or"

    assert default_model_name() == "anthropic/claude-sonnet-5.5"
    info = resolve_model("anthropic/claude-3.5-sonnet")
    assert (info.provider, info.upstream_model) == ("openrouter", "anthropic/claude-sonnet-4.6")
    bare = resolve_model("claude-opus-5.5")
    assert (bare.provider, bare.upstream_model) == ("openrouter", "anthropic/claude-opus-5.5")
    assert resolve_model("openai/gpt-5").upstream_model == "openai/gpt-5"


def test_openrouter_models_adds_names_beyond_the_catalogue(no_keys):
    no_keys.OPENROUTER_API_KEY = "sk-or"
    no_keys.OPENROUTER_MODELS = "qwen/qwen3-max"

    info = resolve_model("qwen/qwen3-max")
    assert (info.provider, info.upstream_model, info.family) == ("openrouter", "qwen/qwen3-max", "")


def test_with_both_keys_vendor_names_prefer_openrouter_and_bare_names_the_vendor(no_keys):
    no_keys.OPENROUTER_API_KEY = "sk-or"
    no_keys.ANTHROPIC_API_KEY = "sk-ant"

    assert resolve_model("anthropic/claude-3.5-sonnet").provider == "openrouter"
    assert resolve_model("claude-3.5-sonnet").provider == "anthropic"
    assert default_model_name() == "claude-sonnet-5.5"  # anthropic comes first


def test_the_default_follows_anthropic_openai_openrouter_order(no_keys):
    no_keys.OPENROUTER_API_KEY = "sk-or"
    no_keys.OPENAI_API_KEY = "sk-oa"
    assert default_model_name() == "gpt-5.6-terra"
    assert resolve_model(None).provider == "openai"

    no_keys.DEFAULT_MODEL = "gpt-4o"
    assert resolve_model(None).name == "gpt-4o"


def test_an_openai_compatible_server_serves_the_listed_models(no_keys):
    no_keys.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    no_keys.OPENAI_MODELS = "llama3.1:8b, qwen3"

    assert default_model_name() == "llama3.1:8b"
    info = resolve_model("qwen3")
    assert (info.provider, info.upstream_model, info.available) == ("openai", "qwen3", True)
    assert info.context_window == 32_768
    # The catalogue's OpenAI models still need a real OpenAI key.
    with pytest.raises(NoProvider):
        resolve_model("gpt-4o")


def test_openai_models_may_be_given_as_a_list(no_keys):
    no_keys.OPENAI_BASE_URL = "http://127.0.0.1:8001/v1"
    no_keys.OPENAI_MODELS = ["mistral-7b"]
    assert resolve_model("mistral-7b").provider == "openai"


def test_get_provider_is_lazy_cached_and_follows_settings(no_keys):
    no_keys.OPENAI_API_KEY = "sk-oa"
    no_keys.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    no_keys.OPENROUTER_API_KEY = "sk-or"
    no_keys.ANTHROPIC_API_KEY = "sk-ant"

    openai_provider = get_provider(resolve_model("gpt-4o"))
    assert isinstance(openai_provider, OpenAIProvider)
    assert openai_provider.base_url == "http://127.0.0.1:9/v1"
    assert get_provider(resolve_model("gpt-5")) is openai_provider

    router = get_provider(resolve_model("anthropic/claude-3.5-sonnet"))
    assert isinstance(router, OpenAIProvider) and router is not openai_provider
    assert (router.name, router.flavour, router.base_url) == ("openrouter", "openrouter",
                                                             "https://openrouter.ai/api/v1")

    claude = get_provider(resolve_model("claude-opus-4"))
    assert isinstance(claude, AnthropicProvider)
    assert claude.max_output_tokens["claude-haiku-4-5"] == 64_000

    no_keys.OPENAI_BASE_URL = "http://127.0.0.1:10/v1"
    assert get_provider(resolve_model("gpt-4o")) is not openai_provider


class StubOffline:
    name = "offline"


def test_the_offline_provider_is_imported_by_dotted_path(no_keys, monkeypatch):
    monkeypatch.setattr(registry, "OFFLINE_PROVIDER_PATH", f"{__name__}.StubOffline")
    provider = get_provider(resolve_model("offline"))
    assert isinstance(provider, StubOffline)


def test_sdk_free_modules_import_no_sdk():
    root = Path(registry.__file__).parent
    for module in ("base.py", "registry.py", "pricing.py", "retry.py", "faults.py", "apis.py", "loop_local.py"):
        tree = ast.parse((root / module).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"openai", "anthropic", "httpx", "httpx2", "aiohttp"}, module


async def test_a_resolved_model_streams_from_the_configured_upstream(no_keys, fake_anthropic_settings):
    fake_anthropic_settings.set_script(Script.from_text("Registry to wire."))
    info = resolve_model("claude-3.5-sonnet")
    try:
        events = await collect(get_provider(info).stream(user_request(model=info.upstream_model)))
    finally:
        await aclose_providers()

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Registry to wire."
    assert fake_anthropic_settings.last_request.body["model"] == "claude-sonnet-4-6"


def test_the_real_offline_provider_is_built_lazily(no_keys):
    provider = get_provider(resolve_model(None))
    assert type(provider).__module__ == "apps.providers.offline"
    assert provider.name == "offline"
