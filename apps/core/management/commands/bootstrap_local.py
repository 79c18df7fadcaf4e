"""``manage.py bootstrap_local``: the local admin user and API key `make run` prints.

The password and key are kept in ``var/`` (mode 0600) so repeated runs reuse them.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.core.auth import hash_api_key
from apps.core.models import ApiKey, Membership
from apps.core.services import api_key_create, workspace_get_or_create


def _secret_file(name: str) -> Path:
    path = Path(settings.BASE_DIR) / "var" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)


class Command(BaseCommand):
    help = "Create (or reuse) the local admin user, workspace and API key."

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password_file = _secret_file("admin-password")
        password = os.environ.get("ADMIN_PASSWORD") or (
            password_file.read_text().strip() if password_file.exists() else secrets.token_urlsafe(12)
        )
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": ""})
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        _write_secret(password_file, password)

        workspace = workspace_get_or_create(name="local")
        Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": Membership.Role.OWNER}
        )

        key_file = _secret_file("local-api-key")
        raw = key_file.read_text().strip() if key_file.exists() else ""
        valid = bool(raw) and ApiKey.objects.filter(
            key_hash=hash_api_key(raw), revoked_at__isnull=True
        ).exists()
        if not valid:
            raw = api_key_create(workspace=workspace, user=user, name="local").raw_key
            _write_secret(key_file, raw)

        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        base = f"http://{host}:{port}"
        self.stdout.write("")
        self.stdout.write(f"  Blueprint is starting on {base}")
        self.stdout.write(f"  UI:       {base}/   (sign in with the admin user below)")
        self.stdout.write(f"  Admin:    {base}/admin/   user: {username}   password: {password}")
        self.stdout.write(f"  API docs: {base}/api/docs/")
        self.stdout.write(f"  API key:  {raw}")
        self.stdout.write(f"  Try:      curl -H 'X-API-Key: {raw}' {base}/api/projects")
        self.stdout.write("")
