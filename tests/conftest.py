"""Shared fixtures: tenants with API keys, and DRF clients authenticated as them."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.core.models import ApiKey, Workspace
from apps.core.services import api_key_create
from apps.projects.models import Project
from apps.projects.services import project_create
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


@dataclass
class Tenant:
    workspace: Workspace
    user: object
    api_key: ApiKey
    raw_key: str
    project: Project
    client: APIClient


def make_tenant(name: str) -> Tenant:
    workspace = WorkspaceFactory(name=name)
    user = UserFactory(username=f"{name}-user")
    MembershipFactory(workspace=workspace, user=user)
    created = api_key_create(workspace=workspace, user=user, name="tests")
    project = project_create(workspace=workspace, name=f"{name} project")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=created.raw_key)
    return Tenant(workspace, user, created.api_key, created.raw_key, project, client)


@pytest.fixture
def tenant(db) -> Tenant:
    return make_tenant("alpha")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return make_tenant("beta")
