"""Turning a document into embedded chunks, and when that happens.

``document_process`` chunks and embeds one document and swaps its chunks in one transaction,
so a search sees either the old chunks or the new ones, never a mix. Embedding runs outside
any transaction (it can take seconds) and the result is only written if the content is still
the one that was embedded; a newer upload re-schedules itself.

``ingestion_schedule`` decides when: with ``KNOWLEDGE_INGEST_MODE = "thread"`` (the default)
after the surrounding transaction commits, on a one-worker background thread per process, so
an upload answers at once with ``status: pending`` and the status moves to ``processing`` and
``ready``/``failed``; with ``"inline"`` in the caller's thread (tests, management commands).
A process that dies mid-ingestion leaves documents ``pending``/``processing``;
``manage.py reindex`` picks them up.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections, transaction

from apps.knowledge.chunking import ChunkDraft, chunk_document
from apps.knowledge.embeddings import current_model_id, get_embedder
from apps.knowledge.models import Chunk, Document

logger = logging.getLogger(__name__)

_ERROR_LIMIT = 2000
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def embedding_input(*, path: str, chunk: ChunkDraft) -> str:
    """What is embedded for a chunk: its text, preceded by where it sits."""
    where = f"{path} · {chunk.heading_path}" if chunk.heading_path else path
    return f"{where}\n{chunk.text}"


def document_is_current(document: Document) -> bool:
    return (
        document.status == Document.Status.READY
        and document.embedding_model == current_model_id()
    )


def document_process(*, document_id: Any, force: bool = False) -> Document | None:
    """Chunk and embed one document, replacing its chunks.

    Args:
        document_id: the document to process (it may have been deleted meanwhile).
        force: re-embed even if the document is ready with the current model.

    Returns:
        The document after processing, or None if it no longer exists.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None
    if not force and document_is_current(document):
        return document
    checksum = document.checksum
    Document.objects.filter(pk=document.pk, checksum=checksum).update(
        status=Document.Status.PROCESSING, error=""
    )
    try:
        drafts = chunk_document(path=document.path, content=document.content)
        embedder = get_embedder()
        vectors = embedder.embed([embedding_input(path=document.path, chunk=d) for d in drafts])
        model_id = embedder.model_id
    except Exception as exc:  # noqa: BLE001 - any failure becomes the document's status
        logger.warning("ingestion of %s failed: %s", document.path, exc)
        with transaction.atomic():
            Chunk.objects.filter(document_id=document.pk).delete()
            Document.objects.filter(pk=document.pk, checksum=checksum).update(
                status=Document.Status.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT],
                chunk_count=0,
                embedding_model="",
            )
        document.refresh_from_db()
        return document

    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None or locked.checksum != checksum:
            return locked  # deleted or re-uploaded meanwhile; the newer upload has its own job
        Chunk.objects.filter(document_id=locked.pk).delete()
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document_id=locked.pk,
                    project_id=locked.project_id,
                    ordinal=ordinal,
                    text=draft.text,
                    heading_path=draft.heading_path,
                    embedding=vector,
                    token_count=draft.token_count,
                    char_count=draft.char_count,
                )
                for ordinal, (draft, vector) in enumerate(zip(drafts, vectors, strict=True))
            ],
            batch_size=500,
        )
        locked.status = Document.Status.READY
        locked.error = ""
        locked.embedding_model = model_id
        locked.chunk_count = len(drafts)
        locked.save(update_fields=["status", "error", "embedding_model", "chunk_count", "updated_at"])
    return locked


def ingest_mode() -> str:
    from django.conf import settings

    mode = str(getattr(settings, "KNOWLEDGE_INGEST_MODE", "thread")).lower()
    return mode if mode in ("thread", "inline") else "thread"


def _executor_get() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # One worker: the local model is CPU-bound and serialised anyway, and a single
            # queue keeps jobs for the same document in order.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge-ingest")
        return _executor


def _run_job(document_id: Any) -> None:
    close_old_connections()
    try:
        document_process(document_id=document_id)
    except Exception:  # a background job must never die silently
        logger.exception("background ingestion of document %s crashed", document_id)
    finally:
        close_old_connections()


def ingestion_schedule(*, document: Document, mode: str | None = None) -> Future[None] | None:
    """Process ``document`` now (inline) or after commit on the background worker.

    Returns:
        The background job's future when it was submitted immediately (no open
        transaction), else None.
    """
    if (mode or ingest_mode()) == "inline":
        document_process(document_id=document.pk)
        document.refresh_from_db()
        return None
    submitted: list[Future[None]] = []
    document_id = document.pk
    transaction.on_commit(lambda: submitted.append(_executor_get().submit(_run_job, document_id)))
    return submitted[0] if submitted else None
