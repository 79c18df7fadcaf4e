"""Migration 0003: files written before versions existed keep their state as version history."""
from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("projects", "0002_project_slug")]
AFTER = [("projects", "0003_project_file_versions")]


@pytest.mark.django_db(transaction=True)
def test_existing_files_get_size_digest_and_a_version_row(tenant):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        old_file = old.get_model("projects", "ProjectFile").objects.create(
            project_id=tenant.project.pk, path="src/legacy.ts", content="let ä = 1;\n", version=4
        )
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        file = new.get_model("projects", "ProjectFile").objects.get(pk=old_file.pk)
        data = "let ä = 1;\n".encode()
        assert (file.size, file.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        (version,) = new.get_model("projects", "ProjectFileVersion").objects.filter(file_id=file.pk)
        assert (version.version, version.content, version.source) == (4, "let ä = 1;\n", "tool")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
