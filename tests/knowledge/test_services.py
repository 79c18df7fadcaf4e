"""The engine-facing services: generated documents, client context, documents for the prompt."""
from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import ValidationFailed
from apps.knowledge.models import Chunk, Document
from apps.knowledge.retrieval import retrieve
from apps.knowledge.services import (
    document_save_generated,
    document_upload,
    document_upsert_context,
    documents_for_prompt,
)
from tests.knowledge.conftest import EmbedCounter

pytestmark = pytest.mark.django_db


def test_generated_document_is_stored_embedded_and_retrievable(tenant: Any) -> None:
    content = "# Architecture\n\n## Storage\n\nReadings live in a daily partitioned table."
    first = document_save_generated(project=tenant.project, doc_type="ARCHITECTURE_SPEC", content=content)
    assert first.path == "ARCHITECTURE_SPEC.md"
    assert (first.source, first.status, first.doc_type) == ("generated", "ready", "ARCHITECTURE_SPEC")
    hits = retrieve(project=tenant.project, query="where are readings stored?", k=1)
    assert hits[0].path == "ARCHITECTURE_SPEC.md" and hits[0].heading_path == "Architecture > Storage"

    second = document_save_generated(project=tenant.project, doc_type="architecture_spec",
                                     content="# Architecture\n\n## Queue\n\nAlerts go through a durable queue.")
    assert second.pk == first.pk
    assert Document.objects.filter(project=tenant.project).count() == 1
    texts = list(Chunk.objects.filter(document=second).values_list("text", flat=True))
    assert texts == ["## Queue\n\nAlerts go through a durable queue."]
    assert retrieve(project=tenant.project, query="durable queue for alerts", k=1)[0].text == texts[0]


def test_generated_document_with_unknown_type_is_refused(tenant: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        document_save_generated(project=tenant.project, doc_type="POEM", content="roses")
    assert error.value.extra["field"] == "docType"


def test_context_upsert_is_idempotent_by_checksum(tenant: Any, embed_counter: EmbedCounter) -> None:
    document = document_upsert_context(project=tenant.project, path="PROJECT_MANIFESTO.md",
                                       content="# Manifesto\n\nShips first.")
    assert (document.source, document.status, document.doc_type) == ("context", "ready", "PROJECT_MANIFESTO")
    calls = embed_counter.calls
    again = document_upsert_context(project=tenant.project, path="PROJECT_MANIFESTO.md",
                                    content="# Manifesto\n\nShips first.")
    assert again.pk == document.pk and embed_counter.calls == calls
    changed = document_upsert_context(project=tenant.project, path="PROJECT_MANIFESTO.md",
                                      content="# Manifesto\n\nCrews first.")
    assert embed_counter.calls == calls + 1
    assert changed.checksum != document.checksum


def test_context_paths_are_validated(tenant: Any) -> None:
    with pytest.raises(ValidationFailed):
        document_upsert_context(project=tenant.project, path="../../etc/passwd", content="x")


def test_documents_for_prompt_orders_and_bounds(tenant: Any) -> None:
    project = tenant.project
    document_upload(project=project, path="src/app.py", content="def main():\n    return 1\n")
    document_upload(project=project, path="notes.md", content="# Notes\n\n" + "n" * 3000)
    document_upsert_context(project=project, path="TECH_STACK.md", content="# Stack\n\nDjango.")
    document_save_generated(project=project, doc_type="ADR", content="# ADR\n\nUse Postgres.")
    everything = documents_for_prompt(project=project)
    assert list(everything) == ["ADR.md", "TECH_STACK.md", "notes.md", "src/app.py"]
    assert everything["ADR.md"] == "# ADR\n\nUse Postgres."
    bounded = documents_for_prompt(project=project, limit_chars=1500)
    assert sum(len(v) for v in bounded.values()) <= 1500
    assert list(bounded) == ["ADR.md", "TECH_STACK.md", "notes.md"]
    assert bounded["notes.md"].endswith("…[truncated]")
    assert documents_for_prompt(project=project, limit_chars=10) == {}


def test_documents_for_prompt_is_per_project(tenant: Any, other_tenant: Any) -> None:
    document_upload(project=tenant.project, path="secret.md", content="# Secret")
    assert documents_for_prompt(project=other_tenant.project) == {}
