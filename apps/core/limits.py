"""Request rate limits and workspace credit, both enforced atomically in Postgres.

Credit uses reservations: before a run, the worst-case cost of the run is added
to ``credit_used`` in one conditional UPDATE (so concurrent runs cannot together
overshoot the limit); when the run ends the reservation is replaced by the real
cost.
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


def rate_limit_hit(*, key: str, limit: int | None = None) -> None:
    """Count one request for ``key`` in the current minute.

    Raises:
        RateLimited: the key has used its requests for this minute (``retry_after``
            is the number of seconds until the window resets).
    """
    limit = settings.RATE_LIMIT_PER_MINUTE if limit is None else limit
    if limit <= 0:
        return
    now = timezone.now()
    window = now.replace(second=0, microsecond=0)
    table = RateLimitCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1)
            ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1
            RETURNING count
            """,
            [key, window],
        )
        (count,) = cursor.fetchone()
    if count > limit:
        raise RateLimited(_retry_after(now))


def rate_limit_prune(*, older_than: timedelta = timedelta(hours=1)) -> int:
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=timezone.now() - older_than).delete()
    return deleted


def credit_reserve(*, workspace: Workspace, amount: Decimal) -> Decimal:
    """Reserve ``amount`` of the workspace's credit.

    Returns:
        The amount reserved.
    Raises:
        CreditExhausted: the workspace has no credit left for this run.
    """
    amount = max(amount, Decimal("0"))
    table = Workspace._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} SET credit_used = credit_used + %s
            WHERE id = %s AND (credit_limit IS NULL
                               OR (credit_used < credit_limit AND credit_used + %s <= credit_limit))
            """,
            [amount, workspace.pk, amount],
        )
        ok = cursor.rowcount == 1
    if not ok:
        raise CreditExhausted("Workspace credit limit reached")
    return amount


def credit_settle(*, workspace_id: object, reserved: Decimal, actual: Decimal) -> None:
    """Replace a reservation by the real cost (which may exceed it slightly). One statement, every run."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Workspace._meta.db_table} SET credit_used = credit_used - %s + %s WHERE id = %s",
            [reserved, max(actual, Decimal("0")), str(workspace_id)],
        )


@dataclass(frozen=True)
class Quota:
    """One request counted against ``rate_key`` and ``amount`` of the workspace's credit reserved.

    For a caller that takes both inside its own statement (the engine's run set-up):
    ``quota_ctes`` are the CTEs that take them, ``quota_check`` raises what
    ``rate_limit_hit`` / ``credit_reserve`` would. One statement is atomic, so a refusal
    writes nothing.
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
    either limit, as with ``rate_limit_hit`` and ``credit_reserve``.
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
    """Raises as ``rate_limit_hit`` then ``credit_reserve`` would, from what ``QUOTA_RESULT`` returned.

    Raises:
        RateLimited, CreditExhausted
    """
    if granted:
        return
    # Refused by the count (the credit allowed it), or over both: the rate limit is reported first.
    if q.rate_limit > 0 and (affordable or (count or 0) >= q.rate_limit):
        raise RateLimited(_retry_after(q.now))
    raise CreditExhausted("Workspace credit limit reached")
