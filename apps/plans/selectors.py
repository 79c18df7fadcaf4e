"""Reads of plans, always scoped to a workspace (another workspace's plan is a 404)."""
from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from apps.chats.models import Chat
from apps.core.errors import ValidationFailed
from apps.core.models import Workspace
from apps.core.selectors import get_scoped
from apps.plans.models import Plan, PlanStep
from apps.projects.models import Project


def _with_steps(queryset: QuerySet[Plan]) -> QuerySet[Plan]:
    return queryset.prefetch_related(Prefetch("steps", queryset=PlanStep.objects.order_by("index")))


def plan_get(*, workspace: Workspace, plan_id: object) -> Plan:
    """Raises NotFound for a missing or malformed id and for another workspace's plan."""
    return get_scoped(_with_steps(Plan.objects.filter(project__workspace=workspace)), plan_id, label="Plan")


def plan_list(*, project: Project, status: str | None = None) -> list[Plan]:
    """The project's plans, newest first, optionally only those in ``status``.

    Raises:
        ValidationFailed: an unknown status (field ``status``).
    """
    queryset = Plan.objects.filter(project=project)
    if status:
        if status not in Plan.Status.values:
            raise ValidationFailed(f"status must be one of {', '.join(Plan.Status.values)}.", field="status")
        queryset = queryset.filter(status=status)
    return list(_with_steps(queryset.order_by("-created_at", "-id")))


def plan_latest_for_chat(*, chat: Chat) -> Plan | None:
    return _with_steps(Plan.objects.filter(chat=chat).order_by("-created_at", "-id")).first()


def step_payload(step: PlanStep) -> dict[str, Any]:
    return {"index": step.index, "title": step.title, "description": step.description, "files": list(step.files),
            "risk": step.risk, "status": step.status}


def plan_payload(plan: Plan) -> dict[str, Any]:
    """The plan's JSON shape (REST, the seed's ``GET /api/plan/…`` and the ``plan.ready`` event)."""
    return {
        "id": str(plan.pk),
        "chatId": str(plan.chat_id),
        "projectId": str(plan.project_id),
        "status": plan.status,
        "steps": [step_payload(step) for step in plan.steps.all()],
        "rawText": plan.raw_text,
        "runId": str(plan.run_id) if plan.run_id else None,
        "createdAt": plan.created_at.isoformat(),
        "updatedAt": plan.updated_at.isoformat(),
    }
