"""Versioned snapshots of a chat's domain model."""
from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.chats.models import Chat, Message
from apps.domain.fields import OrderedJSONField


class DomainModelVersion(models.Model):
    """One accepted state of a chat's domain model; version 1, 2, 3 … per chat."""

    class Phase(models.TextChoices):
        CLARIFYING = "clarifying"
        PROPOSING = "proposing"
        REFINING = "refining"
        READY = "ready"

    class Author(models.TextChoices):
        MODEL = "model"
        PERSON = "person"

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="domain_versions")
    version = models.PositiveIntegerField()
    # {"entities": {...}, "relationships": [...]} in canonical form (apps.domain.schema)
    dsl = OrderedJSONField(default=dict)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.CLARIFYING)
    readiness = models.PositiveSmallIntegerField(default=0)
    confidence = models.FloatField(default=0.0)
    # what changed against the previous version (apps.domain.diff.dsl_diff)
    diff = OrderedJSONField(default=dict, blank=True)
    source_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = models.CharField(max_length=10, choices=Author.choices, default=Author.MODEL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chat", "version"], name="uniq_domain_chat_version")
        ]
        ordering = ["chat", "-version"]

    def __str__(self) -> str:
        return f"{self.chat_id} v{self.version} ({self.phase}, {self.readiness}%)"
