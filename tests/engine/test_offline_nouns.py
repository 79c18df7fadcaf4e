"""The offline provider through the engine: the dsl.update events carry the person's own
nouns (tests/domain/domain_descriptions.py), and a follow-up in the same chat adds to them."""
from __future__ import annotations

from typing import Any

import pytest

from apps.domain.models import DomainModelVersion
from apps.engine import api as engine
from tests.conftest import Tenant
from tests.domain.domain_descriptions import DESCRIPTIONS
from tests.engine.conftest import collect, default_chat, make_request

pytestmark = pytest.mark.django_db(transaction=True)

_BY_ID = {d.id: d for d in DESCRIPTIONS}


async def _run(tenant: Tenant, text: str, chat: Any) -> list[dict[str, Any]]:
    handle = await engine.start_run(await make_request(tenant, text, chat=chat))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["status"] == "completed", events[-1]
    return events


def _pairs(update: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["from"], r["type"], r["to"]) for r in update["domainModel"]["relationships"]}


@pytest.mark.parametrize("case_id", ["pet clinic", "food delivery", "irregular people children",
                                     "has many belongs to, Title Case"])
async def test_dsl_updates_carry_the_persons_nouns(tenant_async: Tenant, case_id: str) -> None:
    case = _BY_ID[case_id]
    events = await _run(tenant_async, case.text, await default_chat(tenant_async))
    updates = [e for e in events if e["type"] == "dsl.update"]
    final = updates[-1]
    assert final["version"] == 1 and set(final["domainModel"]["entities"]) == case.entities
    pairs = _pairs(final)
    for source, kind, target in case.relationships:
        assert (source, kind, target) in pairs or (kind == "many-to-many" and (target, kind, source) in pairs)
    # the streamed previews before it only ever show the person's nouns, never a canned domain
    for update in updates:
        assert set(update["domainModel"]["entities"]) <= case.entities
    said = next(e for e in events if e["type"] == "assistant.message")["text"]
    assert all(name in said for name in case.entities)


async def test_a_follow_up_in_the_same_chat_adds_to_the_model(tenant_async: Tenant) -> None:
    chat = await default_chat(tenant_async)
    await _run(tenant_async, "restaurants have menu items, customers place orders, couriers deliver them", chat)
    events = await _run(tenant_async, "Invoices are paid by customers.", chat)
    final = [e for e in events if e["type"] == "dsl.update"][-1]
    assert final["version"] == 2
    assert set(final["domainModel"]["entities"]) == {"Restaurant", "MenuItem", "Customer", "Order", "Courier",
                                                     "Invoice"}
    assert {("Invoice", "many-to-one", "Customer"), ("Order", "many-to-one", "Courier")} <= _pairs(final)
    version = await DomainModelVersion.objects.aget(chat=chat, version=2)
    assert version.diff["entities"]["added"] == ["Invoice"]
