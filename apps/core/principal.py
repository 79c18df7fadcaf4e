"""Who is calling: the value every transport hands to services and the engine.

Kept apart from ``apps.core.auth`` (which speaks DRF) so the transport-agnostic engine
can name it without importing a web framework.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from apps.core.models import ApiKey, Workspace


@dataclass(frozen=True)
class Principal:
    """Who is calling, and the workspace every lookup is scoped to."""

    workspace: Workspace
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    # True when authenticated by a session cookie: unsafe methods then need CSRF.
    via_session: bool = False

    @property
    def rate_key(self) -> str:
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        return f"user:{self.user.pk if self.user else 'anon'}"
