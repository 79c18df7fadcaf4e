"""The built-in model catalogue: the vendors' models we know, and the public names for them.

A *family* is one upstream model (limits, prices in ``pricing.py``). Every family is
reachable by its own name (``claude-sonnet-4.6``) and by its OpenRouter id
(``anthropic/claude-sonnet-4.6``). ``ALIASES`` keeps older public names working — the names
the seed APIs use — by pointing them at the vendor's nearest live model when the original
has been retired upstream; ``/api/models`` shows the upstream id each name is served by.

Vendors retire models on dated schedules; when one goes, point its alias at the successor
here (and add the successor's price in ``pricing.py``). Lifecycle facts as of 2026-10.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    key: str
    native: tuple[str, str] | None  # (provider, upstream id) of the vendor's own API
    openrouter: str | None  # the OpenRouter model id
    context_window: int
    max_output_tokens: int
    reasoning: bool = False
    note: str = ""


FAMILIES: tuple[Family, ...] = (
    # OpenAI (Chat Completions)
    Family("gpt-5.6-terra", ("openai", "gpt-5.6-terra"), "openai/gpt-5.6-terra", 1_000_000, 128_000, True),
    Family("gpt-5", ("openai", "gpt-5"), "openai/gpt-5", 400_000, 128_000, True,
           note="OpenAI shuts gpt-5 down on 2026-12-11"),
    Family("gpt-5-mini", ("openai", "gpt-5-mini"), "openai/gpt-5-mini", 400_000, 128_000, True,
           note="OpenAI shuts gpt-5-mini down on 2026-12-11"),
    Family("gpt-5-nano", ("openai", "gpt-5-nano"), "openai/gpt-5-nano", 400_000, 128_000, True,
           note="OpenAI shuts gpt-5-nano down on 2026-12-11"),
    Family("gpt-4.1", ("openai", "gpt-4.1"), "openai/gpt-4.1", 1_047_576, 32_768,
           note="OpenAI shuts gpt-4.1 down on 2027-01-14"),
    Family("gpt-4.1-mini", ("openai", "gpt-4.1-mini"), "openai/gpt-4.1-mini", 1_047_576, 32_768,
           note="OpenAI shuts gpt-4.1-mini down on 2027-01-14"),
    Family("gpt-4o", ("openai", "gpt-4o"), "openai/gpt-4o", 128_000, 16_384,
           note="OpenAI shuts gpt-4o down on 2027-01-14"),
    Family("gpt-4o-mini", ("openai", "gpt-4o-mini"), "openai/gpt-4o-mini", 128_000, 16_384,
           note="OpenAI shuts gpt-4o-mini down on 2027-01-14"),
    Family("gpt-4-turbo", ("openai", "gpt-4-turbo"), "openai/gpt-4-turbo", 128_000, 4_096,
           note="OpenAI shut gpt-4-turbo down on 2026-10-23 (its replacement: gpt-5.6-sol)"),
    # Anthropic (Messages)
    Family("claude-sonnet-5.5", ("anthropic", "claude-sonnet-5-5"), "anthropic/claude-sonnet-5.5",
           1_000_000, 128_000, True),
    Family("claude-opus-5.5", ("anthropic", "claude-opus-5-5"), "anthropic/claude-opus-5.5",
           1_000_000, 128_000, True),
    Family("claude-sonnet-4.6", ("anthropic", "claude-sonnet-4-6"), "anthropic/claude-sonnet-4.6",
           1_000_000, 128_000, True),
    Family("claude-opus-4.8", ("anthropic", "claude-opus-4-8"), "anthropic/claude-opus-4.8",
           1_000_000, 128_000, True),
    Family("claude-haiku-4.5", ("anthropic", "claude-haiku-4-5"), "anthropic/claude-haiku-4.5",
           200_000, 64_000, True),
)

# Public name → family key, for names whose own upstream model is gone or that name a generation.
ALIASES: dict[str, tuple[str, str]] = {
    "claude-sonnet-4": ("claude-sonnet-4.6",
                        "the Sonnet 4 generation; claude-sonnet-4-20250514 reached end of life on 2026-06-15"),
    "anthropic/claude-sonnet-4": ("claude-sonnet-4.6",
                                  "the Sonnet 4 generation; the original snapshot is retired"),
    "claude-opus-4": ("claude-opus-4.8",
                      "the Opus 4 generation; claude-opus-4-20250514 reached end of life on 2026-06-15"),
    "anthropic/claude-opus-4": ("claude-opus-4.8", "the Opus 4 generation; the original snapshot is retired"),
    "claude-3.5-sonnet": ("claude-sonnet-4.6", "Claude 3.5 Sonnet is retired upstream; served by its successor"),
    "anthropic/claude-3.5-sonnet": ("claude-sonnet-4.6",
                                    "Claude 3.5 Sonnet is retired upstream; served by its successor"),
}

# Each provider's default model, in the order the default is chosen (SPEC §6: the first
# configured of anthropic, openai, openrouter).
PROVIDER_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("anthropic", "claude-sonnet-5.5"),
    ("openai", "gpt-5.6-terra"),
    ("openrouter", "anthropic/claude-sonnet-5.5"),
)
