"""The model registry: public model names → provider, upstream model id and limits.

The built-in names come from ``apps.providers.catalogue``. They come in two styles. Bare
names (``gpt-5``, ``claude-sonnet-4``) go to their vendor's own API when its key is set, else
through OpenRouter. OpenRouter-style ``vendor/model``
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
from apps.providers.catalogue import ALIASES, FAMILIES, PROVIDER_DEFAULTS, Family

OFFLINE = "offline"
OFFLINE_PROVIDER_PATH = "apps.providers.offline.OfflineProvider"
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"

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
        family: the upstream model family (the pricing key) — the same for
            ``claude-3.5-sonnet`` and ``anthropic/claude-3.5-sonnet``; "" for models known
            only from settings.
        reasoning: the model can stream reasoning (extended thinking).
        note: lifecycle remarks (a retired name and what serves it, a shutdown date).
    """

    name: str
    provider: str
    upstream_model: str
    context_window: int
    max_output_tokens: int
    available: bool = True
    family: str = ""
    reasoning: bool = False
    note: str = ""


@dataclass(frozen=True)
class _Entry:
    name: str
    family: Family
    note: str = ""

    @property
    def prefers_openrouter(self) -> bool:
        return "/" in self.name


def _catalogue() -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    families = {family.key: family for family in FAMILIES}
    for family in FAMILIES:
        entries[family.key] = _Entry(family.key, family, family.note)
        if family.openrouter:
            entries[family.openrouter] = _Entry(family.openrouter, family, family.note)
    for name, (key, note) in ALIASES.items():
        entries[name] = _Entry(name, families[key], note)
    return entries


CATALOGUE: dict[str, _Entry] = _catalogue()
OFFLINE_INFO = ModelInfo(name=OFFLINE, provider=OFFLINE, upstream_model=OFFLINE, context_window=32_768,
                         max_output_tokens=4_096, family=OFFLINE,
                         note="deterministic and rule-based; needs no network or key")


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
    family = entry.family
    native_ok = family.native is not None and family.native[0] in providers
    # The catalogue's OpenAI models need a real key; a bare OPENAI_BASE_URL serves OPENAI_MODELS.
    if native_ok and family.native is not None and family.native[0] == "openai":
        native_ok = bool(_setting("OPENAI_API_KEY", ""))
    router = ("openrouter", family.openrouter) if family.openrouter else None
    candidates = [(family.native, native_ok), (router, "openrouter" in providers)]
    if entry.prefers_openrouter:
        candidates.reverse()
    routes = [(route, ok) for route, ok in candidates if route is not None]
    usable = [route for route, ok in routes if ok]
    available = bool(usable)
    # An unavailable model is shown under the provider it would prefer.
    route = usable[0] if usable else routes[0][0]
    provider, upstream = route
    return ModelInfo(name=entry.name, provider=provider, upstream_model=upstream,
                     context_window=family.context_window, max_output_tokens=family.max_output_tokens,
                     available=available, family=family.key, reasoning=family.reasoning, note=entry.note)


def _settings_model(name: str, provider: str, providers: set[str]) -> ModelInfo:
    known = CATALOGUE.get(name)
    if known is not None:
        family = known.family
        return ModelInfo(name=name, provider=provider, upstream_model=name, context_window=family.context_window,
                         max_output_tokens=family.max_output_tokens, available=provider in providers,
                         family=family.key, reasoning=family.reasoning)
    return ModelInfo(name=name, provider=provider, upstream_model=name,
                     context_window=int(_setting("OPENAI_MODELS_CONTEXT_WINDOW", 32_768)),
                     max_output_tokens=int(_setting("OPENAI_MODELS_MAX_OUTPUT_TOKENS", 4_096)),
                     available=provider in providers)


_MODEL_SETTINGS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY", "OPENAI_MODELS",
                   "OPENROUTER_MODELS", "OPENAI_MODELS_CONTEXT_WINDOW", "OPENAI_MODELS_MAX_OUTPUT_TOKENS")
_models_cache: tuple[tuple[Any, ...], dict[str, ModelInfo]] | None = None


def _models_by_name() -> dict[str, ModelInfo]:
    """``all_models`` by name, rebuilt only when a setting it depends on changes (every run asks)."""
    global _models_cache
    key = tuple(_setting(name, "") for name in _MODEL_SETTINGS)
    cached = _models_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    models = {info.name: info for info in _build_models()}
    _models_cache = (key, models)
    return models


def all_models() -> list[ModelInfo]:
    """Every model the registry knows, each with ``available`` set for this configuration."""
    return list(_models_by_name().values())


def _build_models() -> list[ModelInfo]:
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
    models = _models_by_name()
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
    timeouts = (float(_setting("PROVIDER_CONNECT_TIMEOUT_S", 10.0)), float(_setting("PROVIDER_READ_TIMEOUT_S", 600.0)))
    if provider == "openai":
        return (provider, _setting("OPENAI_API_KEY", ""), _setting("OPENAI_BASE_URL", ""), transport, timeouts)
    if provider == "openrouter":
        return (provider, _setting("OPENROUTER_API_KEY", ""),
                _setting("OPENROUTER_BASE_URL", "") or OPENROUTER_BASE_URL, transport, timeouts)
    if provider == "anthropic":
        return (provider, _setting("ANTHROPIC_API_KEY", ""), _setting("ANTHROPIC_BASE_URL", ""), transport,
                timeouts, int(_setting("ANTHROPIC_DEFAULT_MAX_TOKENS", 16_384)),
                int(_setting("ANTHROPIC_THINKING_BUDGET", 4096)))
    if provider == OFFLINE:
        return (provider, OFFLINE_PROVIDER_PATH, _setting("OFFLINE_TOKEN_DELAY_MS", 15))
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
    limits = {f.native[1]: f.max_output_tokens for f in FAMILIES
              if f.native is not None and f.native[0] == "anthropic"}
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
