"""The model registry: public model names → provider, upstream model id and limits.

Names come in two styles. Bare names (``gpt-5``, ``claude-sonnet-4``) go to their vendor's
own API when its key is set, else through OpenRouter. OpenRouter-style ``vendor/model``
names (``anthropic/claude-3.5-sonnet``) go through OpenRouter when ``OPENROUTER_API_KEY`` is
set, else to the vendor's own API. Names listed in ``OPENAI_MODELS`` are served by the
configured OpenAI-compatible endpoint (``OPENAI_BASE_URL``: Ollama, vLLM, LM Studio …), and
``OPENROUTER_MODELS`` adds OpenRouter names beyond the built-in list. ``offline`` is always
there.

Settings are read on every call (cheap), so a changed setting takes effect at once; the
provider objects are built lazily and cached per process and configuration. SDKs are
imported only by the provider modules, when a provider is first built.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from apps.core.errors import InvalidModel, NoProvider
from apps.providers.base import Provider

OFFLINE = "offline"
OFFLINE_PROVIDER_PATH = "apps.providers.offline.OfflineProvider"
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"

# The default model of each provider, in the order the default is chosen.
PROVIDER_DEFAULTS = (("anthropic", "claude-sonnet-4"), ("openai", "gpt-5-mini"),
                     ("openrouter", "anthropic/claude-sonnet-4"))
# Where each provider's key comes from, for error messages.
PROVIDER_SETTINGS = {"openai": "OPENAI_API_KEY or OPENAI_BASE_URL", "anthropic": "ANTHROPIC_API_KEY",
                     "openrouter": "OPENROUTER_API_KEY"}


@dataclass(frozen=True)
class ModelInfo:
    """A resolved model.

    Attributes:
        name: the public name clients use.
        provider: ``openai`` | ``anthropic`` | ``openrouter`` | ``offline``.
        upstream_model: the model id sent to the provider.
        context_window / max_output_tokens: token limits.
        available: the provider is configured (a key or base URL is set).
        family: the catalogue entry (pricing key) — the same for ``claude-3.5-sonnet`` and
            ``anthropic/claude-3.5-sonnet``; "" for models known only from settings.
        reasoning: the model can stream reasoning (extended thinking).
    """

    name: str
    provider: str
    upstream_model: str
    context_window: int
    max_output_tokens: int
    available: bool = True
    family: str = ""
    reasoning: bool = False


@dataclass(frozen=True)
class _Entry:
    name: str
    family: str
    native: tuple[str, str] | None  # (provider, upstream id) of the vendor's own API
    openrouter: str | None  # the OpenRouter model id
    context_window: int
    max_output_tokens: int
    reasoning: bool = False

    @property
    def prefers_openrouter(self) -> bool:
        return "/" in self.name


def _vendor_models() -> list[_Entry]:
    # (public name, native provider, native id, OpenRouter id, context, max output, reasoning)
    rows: list[tuple[str, str | None, str | None, str | None, int, int, bool]] = [
        ("gpt-5", "openai", "gpt-5", "openai/gpt-5", 400_000, 128_000, True),
        ("gpt-5-mini", "openai", "gpt-5-mini", "openai/gpt-5-mini", 400_000, 128_000, True),
        ("gpt-5-nano", "openai", "gpt-5-nano", "openai/gpt-5-nano", 400_000, 128_000, True),
        ("gpt-4.1", "openai", "gpt-4.1", "openai/gpt-4.1", 1_047_576, 32_768, False),
        ("gpt-4.1-mini", "openai", "gpt-4.1-mini", "openai/gpt-4.1-mini", 1_047_576, 32_768, False),
        ("gpt-4o", "openai", "gpt-4o", "openai/gpt-4o", 128_000, 16_384, False),
        ("gpt-4o-mini", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", 128_000, 16_384, False),
        ("gpt-4-turbo", "openai", "gpt-4-turbo", "openai/gpt-4-turbo", 128_000, 4_096, False),
        ("o4-mini", "openai", "o4-mini", "openai/o4-mini", 200_000, 100_000, True),
        ("claude-sonnet-4", "anthropic", "claude-sonnet-4-20250514", "anthropic/claude-sonnet-4",
         200_000, 64_000, True),
        ("claude-sonnet-4.5", "anthropic", "claude-sonnet-4-5", "anthropic/claude-sonnet-4.5",
         200_000, 64_000, True),
        ("claude-opus-4", "anthropic", "claude-opus-4-20250514", "anthropic/claude-opus-4",
         200_000, 32_000, True),
        ("claude-opus-4.1", "anthropic", "claude-opus-4-1", "anthropic/claude-opus-4.1",
         200_000, 32_000, True),
        ("claude-haiku-4.5", "anthropic", "claude-haiku-4-5", "anthropic/claude-haiku-4.5",
         200_000, 64_000, True),
        ("claude-3.7-sonnet", "anthropic", "claude-3-7-sonnet-latest", "anthropic/claude-3.7-sonnet",
         200_000, 64_000, True),
        ("claude-3.5-sonnet", "anthropic", "claude-3-5-sonnet-latest", "anthropic/claude-3.5-sonnet",
         200_000, 8_192, False),
        ("claude-3.5-haiku", "anthropic", "claude-3-5-haiku-latest", "anthropic/claude-3.5-haiku",
         200_000, 8_192, False),
        # Reachable only through OpenRouter.
        ("gemini-2.5-pro", None, None, "google/gemini-2.5-pro", 1_048_576, 65_536, True),
        ("gemini-2.5-flash", None, None, "google/gemini-2.5-flash", 1_048_576, 65_535, True),
        ("llama-3.3-70b-instruct", None, None, "meta-llama/llama-3.3-70b-instruct", 131_072, 16_384, False),
        ("deepseek-chat", None, None, "deepseek/deepseek-chat", 163_840, 16_384, False),
        ("deepseek-r1", None, None, "deepseek/deepseek-r1", 163_840, 32_768, True),
        ("mistral-large", None, None, "mistralai/mistral-large", 131_072, 16_384, False),
    ]
    entries: list[_Entry] = []
    for name, provider, native_id, router_id, context, output, reasoning in rows:
        native = (provider, native_id) if provider and native_id else None
        if native is not None:
            entries.append(_Entry(name, name, native, router_id, context, output, reasoning))
        if router_id:
            entries.append(_Entry(router_id, name, native, router_id, context, output, reasoning))
    return entries


CATALOGUE: dict[str, _Entry] = {entry.name: entry for entry in _vendor_models()}
OFFLINE_INFO = ModelInfo(name=OFFLINE, provider=OFFLINE, upstream_model=OFFLINE, context_window=32_768,
                         max_output_tokens=4_096, family=OFFLINE)


# --- settings ---------------------------------------------------------------------


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _names(value: Any) -> list[str]:
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else (value or [])
    return [str(item).strip() for item in items if str(item).strip()]


def configured_providers() -> set[str]:
    """The providers that have what they need to make a call."""
    found = {OFFLINE}
    if _setting("OPENAI_API_KEY", "") or _setting("OPENAI_BASE_URL", ""):
        found.add("openai")
    if _setting("ANTHROPIC_API_KEY", ""):
        found.add("anthropic")
    if _setting("OPENROUTER_API_KEY", ""):
        found.add("openrouter")
    return found


def _openai_served_models() -> list[str]:
    return _names(_setting("OPENAI_MODELS", ""))


# --- resolution -------------------------------------------------------------------


def _info_for_entry(entry: _Entry, providers: set[str]) -> ModelInfo:
    native_ok = entry.native is not None and entry.native[0] in providers
    # The catalogue's OpenAI models need a real key; a bare OPENAI_BASE_URL serves OPENAI_MODELS.
    if native_ok and entry.native is not None and entry.native[0] == "openai":
        native_ok = bool(_setting("OPENAI_API_KEY", ""))
    router_ok = entry.openrouter is not None and "openrouter" in providers
    route: tuple[str, str] | None
    if entry.prefers_openrouter:
        route = ("openrouter", entry.openrouter or "") if router_ok else (entry.native if native_ok else None)
    else:
        route = entry.native if native_ok else (("openrouter", entry.openrouter or "") if router_ok else None)
    available = route is not None
    if route is None:  # shown as unavailable, under the provider it would prefer
        route = ("openrouter", entry.openrouter or "") if entry.prefers_openrouter or entry.native is None \
            else entry.native
    provider, upstream = route
    return ModelInfo(name=entry.name, provider=provider, upstream_model=upstream,
                     context_window=entry.context_window, max_output_tokens=entry.max_output_tokens,
                     available=available, family=entry.family, reasoning=entry.reasoning)


def _settings_model(name: str, provider: str, providers: set[str]) -> ModelInfo:
    known = CATALOGUE.get(name)
    return ModelInfo(
        name=name, provider=provider, upstream_model=name,
        context_window=known.context_window if known else int(_setting("OPENAI_MODELS_CONTEXT_WINDOW", 32_768)),
        max_output_tokens=known.max_output_tokens if known else int(
            _setting("OPENAI_MODELS_MAX_OUTPUT_TOKENS", 4_096)),
        available=provider in providers, family=known.family if known else "",
        reasoning=known.reasoning if known else False)


def all_models() -> list[ModelInfo]:
    """Every model the registry knows, each with ``available`` set for this configuration."""
    providers = configured_providers()
    models: dict[str, ModelInfo] = {OFFLINE: OFFLINE_INFO}
    for name in _openai_served_models():
        models[name] = _settings_model(name, "openai", providers)
    for name in _names(_setting("OPENROUTER_MODELS", "")):
        models.setdefault(name, _settings_model(name, "openrouter", providers))
    for entry in CATALOGUE.values():
        models.setdefault(entry.name, _info_for_entry(entry, providers))
    return list(models.values())


def available_models() -> list[ModelInfo]:
    """The models that can be called with the current configuration."""
    return [info for info in all_models() if info.available]


def default_model_name() -> str:
    """``DEFAULT_MODEL`` if set; else the first configured of anthropic, openai, openrouter; else offline."""
    explicit = str(_setting("DEFAULT_MODEL", "") or "")
    if explicit:
        return explicit
    providers = configured_providers()
    for provider, name in PROVIDER_DEFAULTS:
        if provider not in providers:
            continue
        if provider == "openai":
            served = _openai_served_models()
            if served:
                return served[0]
            if not _setting("OPENAI_API_KEY", ""):
                continue
        return name
    return OFFLINE


def resolve_model(name: str | None) -> ModelInfo:
    """The model to call for a public name (None or "" → the default model).

    Raises:
        InvalidModel: the name is unknown (``availableModels`` lists the usable names).
        NoProvider: the model is known but its provider has no key or base URL configured.
    """
    wanted = (name or "").strip() or default_model_name()
    models = {info.name: info for info in all_models()}
    info = models.get(wanted) or models.get(wanted.lower())
    if info is None:
        raise InvalidModel(wanted, [m.name for m in models.values() if m.available])
    if not info.available:
        needs = PROVIDER_SETTINGS.get(info.provider, info.provider)
        raise NoProvider(f"Model '{info.name}' needs the {info.provider} provider: set {needs}.",
                         extra={"model": info.name, "provider": info.provider})
    return info


# --- provider objects -------------------------------------------------------------

_providers: dict[tuple[Any, ...], Provider] = {}
_providers_lock = threading.Lock()


def _provider_config(provider: str) -> tuple[Any, ...]:
    transport = str(_setting("PROVIDER_HTTP_TRANSPORT", "aiohttp"))
    timeouts = (float(_setting("PROVIDER_CONNECT_TIMEOUT", 10.0)), float(_setting("PROVIDER_READ_TIMEOUT", 600.0)))
    if provider == "openai":
        return (provider, _setting("OPENAI_API_KEY", ""), _setting("OPENAI_BASE_URL", ""), transport, timeouts)
    if provider == "openrouter":
        return (provider, _setting("OPENROUTER_API_KEY", ""),
                _setting("OPENROUTER_BASE_URL", "") or OPENROUTER_BASE_URL, transport, timeouts)
    if provider == "anthropic":
        return (provider, _setting("ANTHROPIC_API_KEY", ""), _setting("ANTHROPIC_BASE_URL", ""), transport,
                timeouts, int(_setting("ANTHROPIC_DEFAULT_MAX_TOKENS", 8192)),
                int(_setting("ANTHROPIC_THINKING_BUDGET", 4096)))
    if provider == OFFLINE:
        return (provider, _setting("OFFLINE_TOKEN_DELAY_MS", 15))
    raise NoProvider(f"Unknown provider '{provider}'.")


def _build(config: tuple[Any, ...]) -> Provider:
    provider = config[0]
    if provider == OFFLINE:
        return import_string(OFFLINE_PROVIDER_PATH)()  # type: ignore[no-any-return]
    transport, (connect_timeout, read_timeout) = config[3], config[4]
    common = {"transport": transport, "connect_timeout": connect_timeout, "read_timeout": read_timeout}
    if provider in ("openai", "openrouter"):
        module = importlib.import_module("apps.providers.openai_provider")
        if provider == "openrouter":
            return module.OpenAIProvider(  # type: ignore[no-any-return]
                name="openrouter", api_key=config[1], base_url=config[2], flavour="openrouter",
                default_headers={"X-Title": "Blueprint"}, **common)
        return module.OpenAIProvider(name="openai", api_key=config[1],  # type: ignore[no-any-return]
                                     base_url=config[2] or None, **common)
    module = importlib.import_module("apps.providers.anthropic_provider")
    limits = {e.native[1]: e.max_output_tokens for e in CATALOGUE.values()
              if e.native is not None and e.native[0] == "anthropic"}
    return module.AnthropicProvider(  # type: ignore[no-any-return]
        api_key=config[1], base_url=config[2] or None, default_max_tokens=config[5],
        thinking_budget=config[6], max_output_tokens=limits, **common)


def get_provider(info: ModelInfo) -> Provider:
    """The provider object that serves ``info`` (built on first use, then cached)."""
    config = _provider_config(info.provider)
    with _providers_lock:
        provider = _providers.get(config)
        if provider is None:
            provider = _build(config)
            _providers[config] = provider
        return provider


async def aclose_providers() -> None:
    """Close the running loop's HTTP clients of every cached provider (tests, shutdown)."""
    with _providers_lock:
        providers = list(_providers.values())
    for provider in providers:
        aclose = getattr(provider, "aclose", None)
        if aclose is not None:
            await aclose()
