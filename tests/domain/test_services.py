"""Versions: apply, replace, diffs, phases, and concurrency — on the real database."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import Conflict
from apps.domain.errors import DomainValidationError
from apps.domain.models import DomainModelVersion
from apps.domain.selectors import domain_model_current, domain_version_diff, domain_version_list
from apps.domain.services import domain_model_apply_update, domain_model_replace
from tests.domain.seed import seed_blog
from tests.factories import ChatFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_first_update_becomes_version_1_with_server_readiness() -> None:
    chat = ChatFactory()
    message = MessageFactory(chat=chat, role="assistant")
    applied = domain_model_apply_update(chat=chat, arguments=seed_blog(), source_message=message)
    assert applied.version == 1
    assert applied.payload["version"] == 1
    assert applied.payload["readiness"] == 100  # the rubric's, not the seed's 65
    assert applied.payload["confidence"] == 0.85
    assert applied.payload["phase"] == "proposing" and applied.phase_changed == "proposing"
    assert set(applied.payload["domainModel"]["entities"]) == {"User", "Post", "Comment", "Tag"}
    assert applied.diff["entities"]["added"] == ["User", "Post", "Comment", "Tag"]
    stored = DomainModelVersion.objects.get(chat=chat)
    assert stored.source_message == message and stored.author == "model"
    assert domain_model_current(chat=chat) == applied.payload


def test_follow_up_adds_a_version_with_a_diff_and_moves_to_refining() -> None:
    chat = ChatFactory()
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    second = domain_model_apply_update(chat=chat, arguments={
        "entities": {"Category": {"fields": {"id": {"type": "uuid", "required": True},
                                             "name": {"type": "string", "required": True}}}},
        "relationships": [{"from": "Post", "to": "Category", "type": "many-to-one"}],
        "remove": {"fields": [{"entity": "Post", "field": "excerpt"}]},
        "confidence": 3,
    })
    assert second.version == 2 and second.payload["confidence"] == 1.0
    assert second.phase_changed is None or second.phase_changed in ("refining", "ready")
    assert second.payload["phase"] in ("refining", "ready")
    assert second.diff["entities"]["added"] == ["Category"]
    assert second.diff["fields"]["removed"] == [{"entity": "Post", "field": "excerpt"}]
    assert second.diff["relationships"]["added"] == [{"from": "Post", "to": "Category", "type": "many-to-one"}]
    assert domain_version_diff(chat=chat, from_version=1, to_version=2) == second.diff
    assert domain_version_diff(chat=chat, from_version=0, to_version=1)["entities"]["added"][0] == "User"
    assert [v.version for v in domain_version_list(chat=chat)] == [1, 2]


def test_invalid_update_never_changes_the_stored_model() -> None:
    chat = ChatFactory()
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    before = domain_model_current(chat=chat)
    with pytest.raises(DomainValidationError) as caught:
        domain_model_apply_update(chat=chat, arguments={
            "entities": {"Like": {"fields": {"id": {"type": "uuid"}}}},
            "relationships": [{"from": "Like", "to": "Psot", "type": "many-to-one"}]})
    assert caught.value.path == "relationships[0].to"
    assert domain_model_current(chat=chat) == before
    assert DomainModelVersion.objects.filter(chat=chat).count() == 1


def test_an_update_that_changes_nothing_stores_nothing() -> None:
    chat = ChatFactory()
    first = domain_model_apply_update(chat=chat, arguments=seed_blog())
    again = domain_model_apply_update(chat=chat, arguments={"entities": {"Tag": {"fields": {}}}})
    assert again.version == first.version and again.phase_changed is None
    assert DomainModelVersion.objects.filter(chat=chat).count() == 1


def test_empty_first_update_is_clarifying() -> None:
    chat = ChatFactory()
    applied = domain_model_apply_update(chat=chat, arguments={"phase": "clarifying", "confidence": 0.2})
    assert applied.payload["phase"] == "clarifying" and applied.payload["readiness"] == 0


def test_replace_by_a_person_with_base_version() -> None:
    chat = ChatFactory()
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    document: dict[str, Any] = seed_blog()
    del document["entities"]["Tag"]
    document["relationships"] = document["relationships"][:3]
    applied = domain_model_replace(chat=chat, dsl=document, base_version=1)
    assert applied.version == 2 and applied.diff["entities"]["removed"] == ["Tag"]
    assert DomainModelVersion.objects.get(chat=chat, version=2).author == "person"
    with pytest.raises(Conflict):
        domain_model_replace(chat=chat, dsl=document, base_version=1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_never_share_a_version() -> None:
    chat = ChatFactory()
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            domain_model_apply_update(chat=chat, arguments={
                "entities": {f"Thing{index}": {"fields": {"id": {"type": "uuid", "required": True}}}}})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    versions = list(DomainModelVersion.objects.filter(chat=chat).order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3, 4, 5, 6]
    assert len(versions[-1].dsl["entities"]) == 6  # every update saw the one before it
