"""Reads of project knowledge, always through a workspace-scoped project."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.core.selectors import get_scoped
from apps.knowledge.models import Document
from apps.projects.models import Project


def document_list(*, project: Project, status: str | None = None) -> QuerySet[Document]:
    documents = Document.objects.filter(project=project).defer("content").order_by("path")
    if status:
        documents = documents.filter(status=status)
    return documents


def document_get(*, project: Project, document_id: object) -> Document:
    """Raises NotFound for a missing or malformed id, or a document of another project."""
    return get_scoped(Document.objects.filter(project=project), document_id, label="Document")
