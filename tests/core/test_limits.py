"""Rate limits and credit: atomic in Postgres, so concurrent callers cannot overshoot."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.core.errors import CreditExhausted, RateLimited
from apps.core.limits import credit_reserve, credit_settle, rate_limit_hit
from apps.core.models import Workspace
from tests.factories import WorkspaceFactory


@pytest.mark.django_db
def test_rate_limit_counts_per_key_and_reports_retry_after():
    for _ in range(3):
        rate_limit_hit(key="key:a", limit=3)
    with pytest.raises(RateLimited) as caught:
        rate_limit_hit(key="key:a", limit=3)
    assert 1 <= caught.value.retry_after <= 61
    assert caught.value.as_dict()["retryAfter"] == caught.value.retry_after
    rate_limit_hit(key="key:b", limit=3)  # another key is unaffected


@pytest.mark.django_db
def test_credit_reserve_refuses_when_exhausted_and_settle_replaces_reservation():
    ws = WorkspaceFactory(credit_limit=Decimal("1.00"))
    reserved = credit_reserve(workspace=ws, amount=Decimal("0.60"))
    with pytest.raises(CreditExhausted):
        credit_reserve(workspace=ws, amount=Decimal("0.50"))
    credit_settle(workspace_id=ws.pk, reserved=reserved, actual=Decimal("0.10"))
    ws.refresh_from_db()
    assert ws.credit_used == Decimal("0.10")
    credit_reserve(workspace=ws, amount=Decimal("0.50"))


@pytest.mark.django_db
def test_zero_cost_runs_are_refused_once_the_limit_is_reached():
    ws = WorkspaceFactory(credit_limit=Decimal("1.00"), credit_used=Decimal("1.00"))
    with pytest.raises(CreditExhausted):
        credit_reserve(workspace=ws, amount=Decimal("0"))


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overshoot_the_limit():
    ws = WorkspaceFactory(credit_limit=Decimal("1.00"))
    results: list[str] = []
    barrier = threading.Barrier(8)

    def reserve() -> None:
        try:
            barrier.wait(timeout=10)
            credit_reserve(workspace=ws, amount=Decimal("0.30"))
            results.append("ok")
        except CreditExhausted:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["ok"] * 3 + ["refused"] * 5
    assert Workspace.objects.get(pk=ws.pk).credit_used == Decimal("0.90")
