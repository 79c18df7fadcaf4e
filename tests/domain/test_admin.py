"""The admin shows domain-model versions read-only, with their diff."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.domain.models import DomainModelVersion
from apps.domain.services import domain_model_apply_update
from tests.domain.seed import seed_blog
from tests.factories import ChatFactory

pytestmark = pytest.mark.django_db


def test_versions_are_listed_and_shown_read_only() -> None:
    chat = ChatFactory()
    domain_model_apply_update(chat=chat, arguments=seed_blog())
    domain_model_apply_update(chat=chat, arguments={"remove": {"entities": ["Tag"]}})
    admin = get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests-123")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/domain/domainmodelversion/")
    assert listing.status_code == 200 and "+0 ~0 -5" in listing.content.decode()
    version = DomainModelVersion.objects.get(chat=chat, version=2)
    page = client.get(f"/admin/domain/domainmodelversion/{version.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200 and "&quot;removed&quot;" in body and "Tag" in body
    assert 'name="_save"' not in body  # nothing to save: history is read-only
    assert client.get("/admin/domain/domainmodelversion/add/").status_code == 403
