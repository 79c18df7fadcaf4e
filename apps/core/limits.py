"""Request rate limits and workspace credit, both enforced atomically in Postgres.

Credit uses reservations: before a run, the worst-case cost of the run is added
to ``credit_used`` in one conditional UPDATE (so concurrent runs cannot together
overshoot the limit); when the run ends the reservation is replaced by the real
cost.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from apps.core.errors import CreditExhausted, RateLimited
from apps.core.models import RateLimitCounter, Workspace

_WINDOW = timedelta(minutes=1)


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
        retry_after = int((window + _WINDOW - now).total_seconds()) + 1
        raise RateLimited(retry_after)


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
    """Replace a reservation by the real cost (which may exceed it slightly)."""
    Workspace.objects.filter(pk=workspace_id).update(  # type: ignore[misc]
        credit_used=F("credit_used") - reserved + max(actual, Decimal("0"))
    )
