"""When and how documents are chunked and embedded."""
from __future__ import annotations

import time
from typing import Any

import pytest

from apps.knowledge.chunking import ChunkDraft
from apps.knowledge.ingestion import document_process, embedding_input
from apps.knowledge.models import Chunk, Document
from apps.knowledge.services import document_upload
from tests.knowledge.conftest import EmbedCounter


@pytest.mark.django_db
def test_unchanged_upload_costs_nothing(tenant: Any, embed_counter: EmbedCounter) -> None:
    content = "# Guide\n\n## Install\n\nRun make.\n\n## Test\n\nRun make test."
    first = document_upload(project=tenant.project, path="guide.md", content=content)
    assert first.created and first.changed and embed_counter.calls == 1 and embed_counter.texts == 2
    chunk_ids = set(Chunk.objects.values_list("pk", flat=True))
    second = document_upload(project=tenant.project, path="guide.md", content=content)
    assert not second.changed and embed_counter.calls == 1
    assert set(Chunk.objects.values_list("pk", flat=True)) == chunk_ids


@pytest.mark.django_db
def test_chunks_carry_heading_paths_counts_and_vectors(tenant: Any) -> None:
    document_upload(project=tenant.project, path="guide.md", content="# Guide\n\n## Install\n\nRun make.")
    chunk = Chunk.objects.get()
    assert chunk.heading_path == "Guide > Install"
    assert chunk.project_id == tenant.project.pk
    assert chunk.char_count == len(chunk.text) and chunk.token_count >= 4
    assert len(chunk.embedding) == 384
    assert abs(sum(v * v for v in chunk.embedding) - 1.0) < 1e-3


def test_embedding_input_names_the_place_of_the_chunk() -> None:
    text = embedding_input(path="docs/guide.md", chunk=ChunkDraft("Run make.", "Guide > Install"))
    assert text == "docs/guide.md · Guide > Install\nRun make."


@pytest.mark.django_db
def test_an_embedding_failure_marks_the_document_failed(tenant: Any, settings: Any) -> None:
    settings.EMBEDDINGS_MODEL = "/nonexistent/model-folder"
    result = document_upload(project=tenant.project, path="a.md", content="# A\n\ntext")
    document = result.document
    assert document.status == "failed"
    assert "EmbeddingError" in document.error and "model-folder" in document.error
    assert document.chunk_count == 0 and not Chunk.objects.exists()
    settings.EMBEDDINGS_MODEL = ""
    recovered = document_process(document_id=document.pk)
    assert recovered is not None and recovered.status == "ready" and recovered.chunk_count == 1


@pytest.mark.django_db
def test_processing_a_deleted_document_is_a_no_op() -> None:
    import uuid

    assert document_process(document_id=uuid.uuid4()) is None


@pytest.mark.django_db(transaction=True)
def test_background_ingestion_moves_status_from_pending_to_ready(settings: Any) -> None:
    from tests.conftest import make_tenant

    settings.KNOWLEDGE_INGEST_MODE = "thread"
    tenant = make_tenant("bg")
    response = tenant.client.post(f"/api/projects/{tenant.project.pk}/documents",
                                  {"path": "a.md", "content": "# A\n\nBackground work."}, format="json")
    assert response.status_code == 201
    assert response.json()["status"] in ("pending", "processing", "ready")
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = Document.objects.get(pk=response.json()["id"]).status
        if status in ("ready", "failed"):
            break
        time.sleep(0.1)
    assert status == "ready"
    listed = tenant.client.get(f"/api/projects/{tenant.project.pk}/documents").json()
    assert listed[0]["status"] == "ready" and listed[0]["chunkCount"] == 1
