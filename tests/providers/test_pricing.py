"""The price table: usage → cost."""
from __future__ import annotations

from decimal import Decimal

import pytest

from apps.providers.catalogue import FAMILIES
from apps.providers.pricing import PRICES, cost_for, price_for
from apps.providers.registry import ModelInfo, all_models, resolve_model


@pytest.fixture
def keys(settings):
    settings.ANTHROPIC_API_KEY = "sk-ant"
    settings.OPENAI_API_KEY = "sk-oa"
    settings.OPENROUTER_API_KEY = "sk-or"
    settings.OPENAI_BASE_URL = ""
    settings.OPENAI_MODELS = ""
    return settings


def test_cost_is_usd_per_million_tokens(keys):
    # gpt-5: $1.25 in, $10 out per million.
    assert cost_for(resolve_model("gpt-5"), 1_000, 500) == Decimal("0.006250")
    # claude-sonnet-5.5: $2 in, $10 out per million.
    assert cost_for(resolve_model("claude-sonnet-5.5"), 2_000_000, 100_000) == Decimal("5.000000")


def test_aliases_bill_as_the_model_that_serves_them(keys):
    direct = cost_for(resolve_model("claude-sonnet-4.6"), 12_345, 678)
    assert cost_for(resolve_model("claude-3.5-sonnet"), 12_345, 678) == direct
    assert cost_for(resolve_model("anthropic/claude-3.5-sonnet"), 12_345, 678) == direct
    assert direct == Decimal("0.047205")  # 12,345 × $3 + 678 × $15, per million


def test_offline_and_local_models_cost_nothing(keys):
    keys.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    keys.OPENAI_MODELS = "llama3.1:8b"
    assert cost_for(resolve_model("offline"), 10_000, 10_000) == Decimal("0")
    assert cost_for(resolve_model("llama3.1:8b"), 10_000, 10_000) == Decimal("0")


def test_costs_round_to_a_millionth_of_a_dollar_and_ignore_negative_counts(keys):
    nano = resolve_model("gpt-5-nano")  # $0.05 per million input tokens
    assert cost_for(nano, 9, 0) == Decimal("0.000000")
    assert cost_for(nano, 10, 0) == Decimal("0.000001")  # 0.0000005 rounds half up
    assert cost_for(nano, -5, -5) == Decimal("0")


def test_every_catalogue_model_has_a_price(keys):
    assert {family.key for family in FAMILIES} <= set(PRICES)
    unpriced = [info.name for info in all_models() if info.family and info.family not in PRICES]
    assert unpriced == []


def test_an_unknown_model_is_free():
    info = ModelInfo(name="mystery", provider="openai", upstream_model="mystery", context_window=1,
                     max_output_tokens=1)
    assert price_for(info).input == 0 and cost_for(info, 1_000_000, 1_000_000) == 0
