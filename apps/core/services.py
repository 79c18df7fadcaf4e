"""Writes for tenancy: workspaces, members, API keys."""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.core.auth import DISPLAY_PREFIX_LENGTH, forget_api_key, generate_api_key, hash_api_key
from apps.core.models import ApiKey, Membership, Workspace


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once; never stored


@transaction.atomic
def workspace_get_or_create(*, name: str, owner_username: str | None = None) -> Workspace:
    """Return the workspace called ``name``, creating it (and its owner user) if needed."""
    workspace, _ = Workspace.objects.get_or_create(name=name)
    if owner_username:
        user, created = get_user_model().objects.get_or_create(username=owner_username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": Membership.Role.OWNER}
        )
    return workspace


def api_key_create(*, workspace: Workspace, name: str = "", user=None) -> CreatedApiKey:  # type: ignore[no-untyped-def]
    """Create a key. Returns the stored row and the raw key, which is never stored."""
    raw = generate_api_key()
    key = ApiKey.objects.create(
        workspace=workspace,
        user=user,
        name=name,
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        key_hash=hash_api_key(raw),
    )
    return CreatedApiKey(api_key=key, raw_key=raw)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    forget_api_key(api_key.key_hash)
    return api_key
