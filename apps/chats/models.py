"""Conversations: chats, messages, runs and the persisted run event log.

The app label is ``chats`` because Django already owns ``messages``.
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone

from apps.core.models import TimeStampedModel
from apps.projects.models import Project

BUILTIN_MODES = ("build", "plan", "chat")


class Chat(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="chats")
    # build | plan | chat | the name of a CustomMode of the project
    mode = models.CharField(max_length=50, default="chat")
    title = models.CharField(max_length=200, blank=True)
    default_model = models.CharField(max_length=100, blank=True)
    dsl_enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["project", "-created_at"], name="chat_project_created")]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        SYSTEM = "system"
        TOOL = "tool"

    class Status(models.TextChoices):
        COMPLETE = "complete"
        STREAMING = "streaming"
        STOPPED = "stopped"
        ERROR = "error"
        INTERRUPTED = "interrupted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField(blank=True)
    # reasoning, tool calls, attachments, sources …
    parts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.COMPLETE)
    model = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    client_message_id = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chat", "client_message_id"], name="uniq_client_message_id"
            )
        ]
        # Keyset pagination of a chat's history walks this index backwards.
        indexes = [models.Index(fields=["chat", "created_at", "id"], name="message_chat_keyset")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class Run(models.Model):
    """One assistant turn, from the user's message to exactly one terminal event."""

    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        STOPPED = "stopped"
        ERROR = "error"
        INTERRUPTED = "interrupted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="runs")
    user_message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    assistant_message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    model = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=50, blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)
    provider_request_id = models.CharField(max_length=200, blank=True)
    worker_id = models.CharField(max_length=100, blank=True)
    stop_requested = models.BooleanField(default=False)
    last_seq = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    heartbeat_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["chat", "-started_at"], name="run_chat_started"),
            models.Index(
                fields=["heartbeat_at"],
                name="run_running_heartbeat",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.id} ({self.status})"


class RunEvent(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=50)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="uniq_run_seq")]
        ordering = ["run", "seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.type}"


class Attachment(models.Model):
    """A file a user attached to a message, stored once; the message's ``parts`` only refer to it.

    ``workspace`` is denormalised from the chat so the download endpoint scopes a lookup by
    primary key and workspace alone.
    """

    class Kind(models.TextChoices):
        IMAGE = "image"
        FILE = "file"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments", null=True,
                                blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # For images, the type sniffed from the bytes; for files, the type the client declared.
    media_type = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name or f"{self.kind} {self.id}"
