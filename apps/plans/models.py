"""Plans: the structured answer of a plan-mode run, and its steps as they are run."""
from __future__ import annotations

import uuid

from django.db import models

from apps.chats.models import Chat, Message, Run
from apps.core.models import TimeStampedModel
from apps.projects.models import Project


class Plan(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="plans")
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="plans")
    # The assistant message (and its run) that wrote the plan.
    source_message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")
    source_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The build-mode run that executes the plan ("Run plan").
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    raw_text = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["chat", "-created_at"], name="plan_chat_created"),
            models.Index(fields=["project", "-created_at"], name="plan_project_created"),
        ]
        constraints = [
            # One plan runs at a time in a chat: the run-plan endpoint's 409 rests on it.
            models.UniqueConstraint(fields=["chat"], condition=models.Q(status="running"),
                                    name="uniq_running_plan_per_chat"),
            # A run writes at most one plan (submit_plan twice replaces it).
            models.UniqueConstraint(fields=["source_message"], name="uniq_plan_source_message"),
        ]

    def __str__(self) -> str:
        return f"plan {self.id} ({self.status})"


class PlanStep(models.Model):
    class Risk(models.TextChoices):
        LOW = "low"
        MEDIUM = "medium"
        HIGH = "high"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        SKIPPED = "skipped"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField(help_text="the step's number, from 1")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    files = models.JSONField(default=list, blank=True)
    risk = models.CharField(max_length=10, choices=Risk.choices, default=Risk.LOW)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class Meta:
        ordering = ["plan", "index"]
        constraints = [models.UniqueConstraint(fields=["plan", "index"], name="uniq_plan_step_index")]

    def __str__(self) -> str:
        return f"{self.index}. {self.title}"
