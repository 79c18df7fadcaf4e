"""Writes of project knowledge: uploading, generating and deleting documents."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core.errors import ValidationFailed
from apps.knowledge.doc_types import UNSORTED, doc_type_for_path, get_doc_type
from apps.knowledge.ingestion import document_is_current, ingestion_schedule
from apps.knowledge.models import Document
from apps.knowledge.paths import language_of, normalize_document_path
from apps.projects.models import Project

DEFAULT_MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_DOCUMENTS_PER_PROJECT = 5000
_TRUNCATION_MARK = "\n\n…[truncated]"


def max_document_bytes() -> int:
    return int(getattr(settings, "KNOWLEDGE_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def content_checksum(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def validate_content(content: object, *, field: str = "content") -> str:
    """Raises ValidationFailed for non-text, binary-looking or oversized content."""
    if not isinstance(content, str):
        raise ValidationFailed("The content must be text.", field=field)
    if "\x00" in content:
        raise ValidationFailed("The content looks binary; only text documents are accepted.", field=field)
    limit = max_document_bytes()
    if len(content.encode("utf-8")) > limit:
        raise ValidationFailed(f"The document is larger than {limit} bytes.", field=field)
    return content


@dataclass(frozen=True)
class DocumentUpsert:
    document: Document
    created: bool
    changed: bool


def document_upsert(
    *,
    project: Project,
    path: str,
    content: str,
    source: str,
    doc_type: str | None = None,
    mode: Literal["thread", "inline"] | None = None,
) -> DocumentUpsert:
    """Create or replace the document at ``path`` and schedule its ingestion.

    Unchanged content that is already embedded with the current model is left alone
    (nothing is re-chunked or re-embedded).

    Args:
        doc_type: a known doc type name; None keeps the existing one or infers it from a
            path such as ``ARCHITECTURE_SPEC.md``.
        mode: ``inline`` embeds before returning; None follows ``KNOWLEDGE_INGEST_MODE``.

    Raises:
        ValidationFailed: bad path, doc type or content, or too many documents.
    """
    path = normalize_document_path(path)
    content = validate_content(content)
    explicit_type = get_doc_type(doc_type).name if doc_type else None
    checksum = content_checksum(content)
    with transaction.atomic():
        existing = Document.objects.select_for_update().filter(project=project, path=path).first()
        if existing is None:
            limit = int(getattr(settings, "KNOWLEDGE_MAX_DOCUMENTS_PER_PROJECT",
                                DEFAULT_MAX_DOCUMENTS_PER_PROJECT))
            if Document.objects.filter(project=project).count() >= limit:
                raise ValidationFailed(f"A project holds at most {limit} documents.", field="path")
            try:
                with transaction.atomic():
                    document = Document.objects.create(
                        project=project, path=path, content=content, checksum=checksum, source=source,
                        doc_type=explicit_type or doc_type_for_path(path),
                    )
            except IntegrityError:  # a concurrent upload of the same path won the race
                return document_upsert(project=project, path=path, content=content, source=source,
                                       doc_type=doc_type, mode=mode)
            created = True
        else:
            document = existing
            new_type = explicit_type or document.doc_type
            unchanged = document.checksum == checksum and document.doc_type == new_type
            if unchanged and document_is_current(document):
                if document.source != source:
                    document.source = source
                    document.save(update_fields=["source", "updated_at"])
                return DocumentUpsert(document, created=False, changed=False)
            document.content = content
            document.checksum = checksum
            document.doc_type = new_type
            document.source = source
            document.status = Document.Status.PENDING
            document.error = ""
            document.save()
            created = False
    # Outside the row lock: inline embedding can take seconds.
    ingestion_schedule(document=document, mode=mode)
    return DocumentUpsert(document, created=created, changed=True)


def document_upload(
    *,
    project: Project,
    path: str,
    content: str,
    doc_type: str | None = None,
    mode: Literal["thread", "inline"] | None = None,
) -> DocumentUpsert:
    """An uploaded document (REST or ``manage.py ingest``); see ``document_upsert``."""
    return document_upsert(project=project, path=path, content=content, doc_type=doc_type,
                           source=Document.Source.UPLOADED, mode=mode)


def document_delete(*, document: Document) -> None:
    """Delete a document and (by cascade) its chunks."""
    document.delete()


def document_save_generated(*, project: Project, doc_type: str, content: str) -> Document:
    """Store the answer of a document-generation run as ``<DOC_TYPE>.md``.

    The previous version is replaced; the new one is chunked and embedded before this
    returns, so the next run can retrieve it.

    Raises:
        ValidationFailed: unknown doc type (field ``docType``) or oversized content.
    """
    name = get_doc_type(doc_type).name
    result = document_upsert(project=project, path=f"{name}.md", content=content, doc_type=name,
                             source=Document.Source.GENERATED, mode="inline")
    return result.document


def document_upsert_context(*, project: Project, path: str, content: str) -> Document:
    """Store one entry of a client's ``project_context`` (idempotent by checksum).

    Raises:
        ValidationFailed: bad path or content.
    """
    return document_upsert(project=project, path=path, content=content,
                           source=Document.Source.CONTEXT).document


def _prompt_rank(document: Document) -> tuple[int, bool, bool, str]:
    source_rank = {Document.Source.GENERATED: 0, Document.Source.CONTEXT: 1}.get(
        Document.Source(document.source), 2
    )
    return (source_rank, document.doc_type == UNSORTED, language_of(document.path) != "markdown",
            document.path)


def documents_for_prompt(*, project: Project, limit_chars: int = 60000) -> dict[str, str]:
    """The project's documents (path → content) to show a document-generation run.

    Generated documents come first, then the client's context, then uploads with a doc type,
    then other Markdown, then the rest; the total stays within ``limit_chars`` (the last
    document that does not fit is cut and marked ``…[truncated]``).
    """
    documents = sorted(
        Document.objects.filter(project=project).exclude(content="").only(
            "path", "content", "source", "doc_type"
        ),
        key=_prompt_rank,
    )
    result: dict[str, str] = {}
    remaining = max(0, limit_chars)
    for document in documents:
        if len(document.content) <= remaining:
            result[document.path] = document.content
            remaining -= len(document.content)
            continue
        if remaining > 500:
            result[document.path] = document.content[: remaining - len(_TRUNCATION_MARK)] + _TRUNCATION_MARK
        break
    return result


__all__ = [
    "UNSORTED",
    "DocumentUpsert",
    "content_checksum",
    "document_delete",
    "document_save_generated",
    "document_upload",
    "document_upsert",
    "document_upsert_context",
    "documents_for_prompt",
]
