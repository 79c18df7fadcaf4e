"""Credit settlement; the rate limit and the reservation are taken when a run begins
(tests/engine/test_opening.py)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.limits import credit_settle
from apps.core.models import Workspace
from tests.factories import WorkspaceFactory


@pytest.mark.django_db
def test_settle_replaces_the_reservation_with_the_real_cost():
    ws = WorkspaceFactory(credit_limit=Decimal("1.00"), credit_used=Decimal("0.70"))  # 0.60 reserved
    credit_settle(workspace_id=ws.pk, reserved=Decimal("0.60"), actual=Decimal("0.10"))
    assert Workspace.objects.get(pk=ws.pk).credit_used == Decimal("0.20")
    # A cost above the reservation is billed in full; a negative one counts as nothing.
    credit_settle(workspace_id=ws.pk, reserved=Decimal("0.05"), actual=Decimal("0.50"))
    credit_settle(workspace_id=ws.pk, reserved=Decimal("0.10"), actual=Decimal("-1"))
    assert Workspace.objects.get(pk=ws.pk).credit_used == Decimal("0.55")
