"""``manage.py ingest`` and ``manage.py reindex``."""
from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.knowledge.models import Chunk, Document
from tests.knowledge.conftest import FIXTURES, EmbedCounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    (root / "docs").mkdir(parents=True)
    (root / "node_modules" / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    shutil.copy(FIXTURES / "architecture.md", root / "docs" / "architecture.md")
    shutil.copy(FIXTURES / "sample.py", root / "billing.py")
    shutil.copy(FIXTURES / "sample.js", root / "dashboard.js")
    (root / "notes.txt").write_text("Plain notes about the harbour.\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "node_modules" / "pkg" / "index.js").write_text("module.exports = 1;\n")
    (root / ".git" / "config.txt").write_text("[core]\n")
    (root / "empty.md").write_text("  \n")
    return root


def _ingest(project: Any, *paths: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest", *[str(p) for p in paths], project=str(project.pk), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_a_folder_with_progress_and_idempotency(tenant: Any, folder: Path, settings: Any,
                                                       embed_counter: EmbedCounter) -> None:
    settings.KNOWLEDGE_INGEST_MODE = "thread"  # the server's default; the command embeds inline anyway
    out, err = _ingest(tenant.project, folder)
    paths = sorted(Document.objects.filter(project=tenant.project).values_list("path", flat=True))
    assert paths == ["handbook/billing.py", "handbook/dashboard.js", "handbook/docs/architecture.md",
                     "handbook/notes.txt"]
    assert "[" in err and "5/5" in err and "100.0%" in err  # the progress bar (empty.md is skipped)
    assert "5 files: 4 created, 1 skipped" in out
    assert set(Document.objects.values_list("status", flat=True)) == {"ready"}
    chunks = Chunk.objects.count()
    assert f"{chunks} chunks embedded" in out
    architecture = Document.objects.get(path="handbook/docs/architecture.md")
    assert architecture.chunk_count > 3
    calls = embed_counter.calls

    out, _ = _ingest(tenant.project, folder)
    assert "4 unchanged" in out and "0 chunks embedded" in out
    assert embed_counter.calls == calls  # nothing re-embedded

    (folder / "notes.txt").write_text("Plain notes about the harbour, revised.\n")
    out, _ = _ingest(tenant.project, folder)
    assert "1 updated, 3 unchanged" in out
    assert embed_counter.calls == calls + 1


def test_ingest_single_files_and_doc_type(tenant: Any, folder: Path) -> None:
    out = StringIO()
    call_command("ingest", str(folder / "docs" / "architecture.md"), project=str(tenant.project.pk),
                 doc_type="ARCHITECTURE_SPEC", stdout=out, stderr=StringIO())
    document = Document.objects.get()
    assert document.path.endswith("architecture.md") and document.doc_type == "ARCHITECTURE_SPEC"


def test_ingest_errors(tenant: Any, folder: Path) -> None:
    with pytest.raises(CommandError, match="not found"):
        call_command("ingest", str(folder), project="00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest", str(folder / "missing"), project=str(tenant.project.pk))
    images = folder / "images"
    images.mkdir()
    (images / "logo.png").write_bytes(b"\x89PNG")
    with pytest.raises(CommandError, match="No ingestible files"):
        call_command("ingest", str(images), project=str(tenant.project.pk), stdout=StringIO(), stderr=StringIO())


def test_reindex_picks_up_stuck_documents_and_all(tenant: Any, folder: Path) -> None:
    _ingest(tenant.project, folder / "notes.txt")
    Document.objects.update(status="processing")  # a worker died mid-ingestion
    out = StringIO()
    call_command("reindex", project=str(tenant.project.pk), stdout=out, stderr=StringIO())
    assert "Reindexed 1 documents" in out.getvalue()
    assert Document.objects.get().status == "ready"
    out = StringIO()
    call_command("reindex", "--all", stdout=out, stderr=StringIO())
    assert "Reindexed 1 documents" in out.getvalue()
