"""``manage.py create_api_key --workspace NAME``: the new key alone on the last line."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.services import api_key_create, workspace_get_or_create


class Command(BaseCommand):
    help = "Create an API key (creating the workspace and its owner user when missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="workspace name")
        parser.add_argument("--user", default=None, help="owner username (default: <workspace>-owner)")
        parser.add_argument("--name", default="cli", help="a label for the key")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["workspace"].strip()
        if not name or len(name) > 100:
            from django.core.management.base import CommandError

            raise CommandError("--workspace must be 1–100 characters")
        username = options["user"] or f"{name}-owner"
        workspace = workspace_get_or_create(name=name, owner_username=username)
        user = workspace.members.filter(username=username).first()
        created = api_key_create(workspace=workspace, name=options["name"], user=user)
        self.stdout.write(f"workspace: {workspace.name} ({workspace.pk})")
        self.stdout.write(f"key prefix: {created.api_key.prefix}")
        self.stdout.write(created.raw_key)
