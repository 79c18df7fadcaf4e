"""The price table: USD per million input / output tokens, and usage → cost.

List prices of the vendors' own APIs (OpenRouter passes them through for these models). A
model the table does not know — ``offline``, a model on a local OpenAI-compatible server —
costs 0. Prices change: keep this table in step with the vendors' pricing pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from apps.providers.registry import ModelInfo

MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.000001")  # costs are kept to a millionth of a dollar


@dataclass(frozen=True)
class Price:
    input: Decimal  # USD per million input tokens
    output: Decimal  # USD per million output tokens


def _price(input_usd: str, output_usd: str) -> Price:
    return Price(Decimal(input_usd), Decimal(output_usd))


FREE = _price("0", "0")

# Keyed by ModelInfo.family (see apps.providers.catalogue), so ``claude-3.5-sonnet`` and
# ``anthropic/claude-3.5-sonnet`` bill as the model that serves them. Vendor list prices, 2026-10.
PRICES: dict[str, Price] = {
    "gpt-5.6-terra": _price("2.50", "15.00"),
    "gpt-5": _price("1.25", "10.00"),
    "gpt-5-mini": _price("0.25", "2.00"),
    "gpt-5-nano": _price("0.05", "0.40"),
    "gpt-4.1": _price("2.00", "8.00"),
    "gpt-4.1-mini": _price("0.40", "1.60"),
    "gpt-4o": _price("2.50", "10.00"),
    "gpt-4o-mini": _price("0.15", "0.60"),
    "gpt-4-turbo": _price("10.00", "30.00"),
    "claude-sonnet-5.5": _price("2.00", "10.00"),
    "claude-opus-5.5": _price("4.00", "20.00"),
    "claude-sonnet-4.6": _price("3.00", "15.00"),
    "claude-opus-4.8": _price("5.00", "25.00"),
    "claude-haiku-4.5": _price("1.00", "5.00"),
    "offline": FREE,
}


def price_for(model_info: ModelInfo) -> Price:
    """The model's price (FREE for models the table does not list)."""
    return PRICES.get(model_info.family or model_info.name, FREE)


def cost_for(model_info: ModelInfo, input_tokens: int, output_tokens: int) -> Decimal:
    """USD cost of one call's usage, rounded to a millionth of a dollar.

    Args:
        model_info: the resolved model (its ``family`` selects the price).
        input_tokens / output_tokens: the usage the provider reported (negatives count as 0).
    Returns:
        The cost as a Decimal; 0 for offline and unpriced local models.
    """
    price = price_for(model_info)
    raw = (price.input * max(0, input_tokens) + price.output * max(0, output_tokens)) / MILLION
    return raw.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
