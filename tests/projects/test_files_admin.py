"""The admin shows a file with its history, read-only."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.projects.file_services import project_file_write
from apps.projects.models import ProjectFileVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_file_page_lists_its_versions_and_versions_cannot_be_edited(client, tenant):
    file = project_file_write(project=tenant.project, path="src/a.ts", content="one", source="api")
    file = project_file_write(project=tenant.project, path="src/a.ts", content="two", source="direct_save")
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:projects_projectfile_change", args=[file.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "direct-save" in html and "REST API" in html
    version = ProjectFileVersion.objects.get(file=file, version=1)
    detail = client.get(reverse("admin:projects_projectfileversion_change", args=[version.pk]))
    assert detail.status_code == 200 and "Save" not in detail.content.decode().split("submit-row")[-1][:300]
    posted = client.post(reverse("admin:projects_projectfileversion_change", args=[version.pk]), {"content": "x"})
    assert posted.status_code == 403
    version.refresh_from_db()
    assert version.content == "one"
    assert client.get(reverse("admin:projects_projectfileversion_changelist")).status_code == 200
