"""Project knowledge: documents and their embedded chunks."""
from __future__ import annotations

import uuid

from django.db import models
from pgvector.django import HnswIndex, VectorField

from apps.core.models import TimeStampedModel
from apps.projects.models import Project

# The column width is fixed by the migration; every embedding backend must produce it
# (OpenAI's text-embedding-3 models are asked for ``dimensions=384``).
EMBEDDING_DIMENSIONS = 384


class Document(TimeStampedModel):
    class Source(models.TextChoices):
        UPLOADED = "uploaded"
        GENERATED = "generated"
        CONTEXT = "context"

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    path = models.CharField(max_length=500)
    doc_type = models.CharField(max_length=50, default="UNSORTED")
    content = models.TextField(blank=True)
    # sha256 of the content: re-ingesting unchanged content costs nothing.
    checksum = models.CharField(max_length=64)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UPLOADED)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    # The embedding model the chunks were made with ("local:all-MiniLM-L6-v2", …);
    # retrieval refuses to compare vectors from different models.
    embedding_model = models.CharField(max_length=200, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "path"], name="uniq_document_project_path")
        ]
        indexes = [models.Index(fields=["project", "status"], name="document_project_status")]

    def __str__(self) -> str:
        return self.path


class Chunk(models.Model):
    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the document so the vector search filters on one table.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    heading_path = models.TextField(blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    token_count = models.PositiveIntegerField(default=0)
    char_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="uniq_chunk_document_ordinal")
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"
