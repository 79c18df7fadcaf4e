"""Request rate limits and workspace credit, both enforced atomically in Postgres.

Both are taken inside the statement that begins a run (``quota_ctes``): a fixed-window
count per API key or user, and a credit reservation of the run's worst-case cost added
to ``credit_used`` only while it fits the limit, so concurrent runs cannot together
overshoot either. When the run ends the reservation is replaced by the real cost
(``credit_settle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.errors import CreditExhausted, RateLimited
from apps.core.models import RateLimitCounter, Workspace

_WINDOW = timedelta(minutes=1)


def _retry_after(now: datetime) -> int:
    window = now.replace(second=0, microsecond=0)
    return int((window + _WINDOW - now).total_seconds()) + 1


def rate_limit_prune(*, older_than: timedelta = timedelta(hours=1)) -> int:
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted


def credit_settle(*, workspace_id: object, reserved: Decimal, actual: Decimal) -> None:
    """Replace a reservation by the real cost (which may exceed it slightly). One statement, every run."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Workspace._meta.db_table} SET credit_used = credit_used - %s + %s WHERE id = %s",
            [reserved, max(actual, Decimal("0")), str(workspace_id)],
        )


def credit_settle_within_limit(*, workspace_id: object, reserved: Decimal, actual: Decimal) -> Decimal:
    """Replace a reservation by the real cost, never taking ``credit_used`` past the limit.

    The reservation is an estimate; when the provider reports more than it covered and the
    workspace has no headroom left, the excess is not charged: the limit is a hard cap.

    Returns:
        What was charged (``actual``, or less at the limit).
    """
    workspaces = Workspace._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH w AS (SELECT credit_used - %(reserved)s AS others, credit_limit FROM {workspaces}
                          WHERE id = %(ws)s FOR UPDATE),
                c AS (SELECT CASE WHEN credit_limit IS NULL THEN %(actual)s
                                  ELSE LEAST(%(actual)s, GREATEST(credit_limit - others, 0)) END AS charged FROM w)
                UPDATE {workspaces} SET credit_used = credit_used - %(reserved)s + c.charged
                FROM c WHERE id = %(ws)s RETURNING c.charged""",
            {"reserved": reserved, "actual": max(actual, Decimal("0")), "ws": str(workspace_id)},
        )
        row = cursor.fetchone()
    return Decimal(row[0]) if row else Decimal("0")


@dataclass(frozen=True)
class Quota:
    """One request counted against ``rate_key`` and ``amount`` of the workspace's credit reserved.

    Taken inside the caller's own statement (the engine's run set-up): ``quota_ctes`` are
    the CTEs that take it, ``quota_check`` raises ``RateLimited`` / ``CreditExhausted`` from
    what the statement returned. One statement is atomic, so a refusal writes nothing.
    """

    rate_key: str
    workspace_id: Any
    amount: Decimal
    rate_limit: int  # <= 0: no rate limit
    now: datetime


def quota(*, rate_key: str, workspace_id: Any, amount: Decimal, rate_limit: int | None = None) -> Quota:
    limit = settings.RATE_LIMIT_PER_MINUTE if rate_limit is None else rate_limit
    return Quota(rate_key, workspace_id, max(amount, Decimal("0")), limit, timezone.now())


def quota_ctes(q: Quota, *, gate: str) -> tuple[str, dict[str, Any]]:
    """The CTEs that take ``q`` in one statement, when the CTE ``gate`` has a row.

    ``quota_workspace``: the workspace row, locked, when its credit allows the amount;
    ``quota_rate``: the new count, when it stays within the limit (counted only then);
    ``quota_credit``: the reservation, a row only when both passed. The statement gates its
    own writes on ``quota_credit`` and selects ``QUOTA_RESULT`` for ``quota_check``.

    The workspace row is locked before the count is taken and both re-check the latest
    committed values (READ COMMITTED), so concurrent runs cannot together overshoot
    either limit.
    """
    counters, workspaces = RateLimitCounter._meta.db_table, Workspace._meta.db_table
    affordable = """(credit_limit IS NULL
                    OR (credit_used < credit_limit AND credit_used + %(quota_amount)s <= credit_limit))"""
    workspace = f"""quota_workspace AS (
        SELECT id FROM {workspaces}
        WHERE id = %(quota_workspace)s AND {affordable} AND EXISTS (SELECT 1 FROM {gate})
        FOR UPDATE
    )"""
    if q.rate_limit > 0:
        rate = f"""quota_rate AS (
        INSERT INTO {counters} (key, window_start, count)
        SELECT %(quota_key)s, %(quota_window)s, 1 FROM quota_workspace
        ON CONFLICT (key, window_start) DO UPDATE SET count = {counters}.count + 1
        WHERE {counters}.count < %(quota_limit)s
        RETURNING count
    )"""
    else:
        rate = "quota_rate AS (SELECT 0 AS count FROM quota_workspace)"
    credit = f"""quota_credit AS (
        UPDATE {workspaces} SET credit_used = credit_used + %(quota_amount)s
        WHERE id = %(quota_workspace)s AND {affordable} AND EXISTS (SELECT 1 FROM quota_rate)
        RETURNING id
    )"""
    params = {
        "quota_workspace": q.workspace_id,
        "quota_amount": q.amount,
        "quota_key": q.rate_key,
        "quota_window": q.now.replace(second=0, microsecond=0),
        "quota_limit": q.rate_limit,
    }
    return f"{workspace}, {rate}, {credit}", params


QUOTA_RESULT = f"""EXISTS (SELECT 1 FROM quota_workspace), EXISTS (SELECT 1 FROM quota_credit),
    (SELECT count FROM {RateLimitCounter._meta.db_table}
     WHERE key = %(quota_key)s AND window_start = %(quota_window)s)"""


def quota_check(q: Quota, *, affordable: bool, granted: bool, count: int | None) -> None:
    """Raise for a refused quota, from what ``QUOTA_RESULT`` returned: the rate limit first, then credit.

    Raises:
        RateLimited, CreditExhausted
    """
    if granted:
        return
    # Refused by the count (the credit allowed it), or over both: the rate limit is reported first.
    if q.rate_limit > 0 and (affordable or (count or 0) >= q.rate_limit):
        raise RateLimited(_retry_after(q.now))
    raise CreditExhausted("Workspace credit limit reached")
