"""Writes of plans: create (from submit_plan or the parsed answer), edit, delete, run, step status."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.chats.models import Chat
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.plans.models import Plan, PlanStep
from apps.plans.parsing import MAX_DESCRIPTION, MAX_FILES, MAX_STEPS, MAX_TITLE, RISKS, parse_plan, safe_relative_path

STEP_STATUSES_SETTABLE = ("running", "done", "failed", "skipped")


def steps_validate(value: Any, *, field: str = "steps") -> list[dict[str, Any]]:
    """``[{title, description?, files?, risk?}]`` checked and normalised (index and status are ignored).

    Raises:
        ValidationFailed: naming the offending field, e.g. ``steps[2].files[0]``.
    """
    if not isinstance(value, list) or not value:
        raise ValidationFailed(f"{field} must be a non-empty list of steps.", field=field)
    if len(value) > MAX_STEPS:
        raise ValidationFailed(f"{field} has {len(value)} steps; the maximum is {MAX_STEPS}.", field=field)
    steps = []
    for position, item in enumerate(value):
        where = f"{field}[{position}]"
        if not isinstance(item, dict):
            raise ValidationFailed(f"{where} must be an object with a title.", field=where)
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationFailed(f"{where}.title is required.", field=f"{where}.title")
        if len(title.strip()) > MAX_TITLE:
            raise ValidationFailed(f"{where}.title must be at most {MAX_TITLE} characters.", field=f"{where}.title")
        description = item.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise ValidationFailed(f"{where}.description must be a string of at most {MAX_DESCRIPTION} characters.",
                                   field=f"{where}.description")
        risk = item.get("risk") or "low"
        if risk not in RISKS:
            raise ValidationFailed(f"{where}.risk must be low, medium or high (got {risk!r}).", field=f"{where}.risk")
        steps.append({"title": title.strip(), "description": description.strip(), "risk": risk,
                      "files": _files_validate(item.get("files"), field=f"{where}.files")})
    return steps


def _files_validate(value: Any, *, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_FILES:
        raise ValidationFailed(f"{field} must be a list of at most {MAX_FILES} paths.", field=field)
    files: list[str] = []
    for position, raw in enumerate(value):
        path = safe_relative_path(raw) if isinstance(raw, str) else None
        if path is None:
            raise ValidationFailed(f"{field}[{position}] must be a relative path inside the project (got {raw!r}).",
                                   field=f"{field}[{position}]")
        if path not in files:
            files.append(path)
    return files


def _replace_steps(plan: Plan, steps: list[dict[str, Any]]) -> None:
    PlanStep.objects.filter(plan=plan).delete()
    PlanStep.objects.bulk_create(PlanStep(plan=plan, index=number, **step) for number, step in enumerate(steps, 1))


@transaction.atomic
def plan_save(*, chat: Chat, steps: list[dict[str, Any]], raw_text: str, source_message_id: Any = None,
              source_run_id: Any = None) -> Plan:
    """Store a plan a run wrote; a second plan from the same message replaces the first.

    Args:
        steps: already validated (``steps_validate``).
    """
    plan = None
    if source_message_id is not None:
        plan = Plan.objects.select_for_update().filter(source_message_id=source_message_id).first()
    if plan is None:
        plan = Plan.objects.create(project_id=chat.project_id, chat=chat, source_message_id=source_message_id,
                                   source_run_id=source_run_id, raw_text=raw_text)
    else:
        plan.raw_text = raw_text
        plan.save(update_fields=["raw_text", "updated_at"])
    _replace_steps(plan, steps)
    return plan


def plan_submit(*, chat: Chat, arguments: dict[str, Any], source_message_id: Any) -> Plan:
    """The ``submit_plan`` tool: ``{steps: [...], summary?}`` from the model.

    Raises:
        ValidationFailed: the arguments are not a valid plan (the model sees the message).
    """
    steps = steps_validate(arguments.get("steps"))
    summary = arguments.get("summary")
    raw = summary if isinstance(summary, str) else ""
    from apps.chats.models import Run

    run_id = Run.objects.filter(assistant_message_id=source_message_id).values_list("pk", flat=True).first()
    return plan_save(chat=chat, steps=steps, raw_text=raw, source_message_id=source_message_id, source_run_id=run_id)


def plan_from_answer(*, chat: Chat, message_id: Any, run_id: Any, text: str) -> Plan | None:
    """The plan of a finished planning answer: the one ``submit_plan`` stored (its raw text
    becomes the answer), else the steps parsed from the answer's Markdown; None when there are none.
    """
    existing = Plan.objects.filter(source_message_id=message_id).first()
    if existing is not None:
        if text.strip():
            Plan.objects.filter(pk=existing.pk).update(raw_text=text)
        return existing
    parsed = parse_plan(text)
    if not parsed:
        return None
    steps = steps_validate([step.as_dict() for step in parsed])
    return plan_save(chat=chat, steps=steps, raw_text=text, source_message_id=message_id, source_run_id=run_id)


def _require_draft(plan: Plan, action: str) -> None:
    if plan.status != Plan.Status.DRAFT:
        raise Conflict(f"The plan is {plan.status}; only a plan that has not run can be {action}.",
                       code="plan_not_draft")


@transaction.atomic
def plan_update_steps(*, plan: Plan, steps: Any) -> Plan:
    """Replace the plan's steps (reorder, remove, add).

    Raises:
        ValidationFailed: a bad step (field named). Conflict: the plan has run or is running.
    """
    validated = steps_validate(steps)
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    _require_draft(locked, "edited")
    _replace_steps(locked, validated)
    locked.save(update_fields=["updated_at"])
    return locked


@transaction.atomic
def plan_delete(*, plan: Plan) -> None:
    """Raises Conflict while the plan runs."""
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if locked.status == Plan.Status.RUNNING:
        raise Conflict("The plan is running; stop its run first.", code="plan_running")
    locked.delete()


def plan_start(*, plan: Plan) -> Plan:
    """Mark a draft plan running (all steps pending). Atomic: two concurrent starts cannot both win.

    Raises:
        Conflict: ``plan_not_draft`` (it ran or runs) or ``run_active`` (another plan runs in the chat).
    """
    try:
        with transaction.atomic():
            changed = Plan.objects.filter(pk=plan.pk, status=Plan.Status.DRAFT).update(status=Plan.Status.RUNNING)
            if changed:
                PlanStep.objects.filter(plan=plan).update(status=PlanStep.Status.PENDING)
    except IntegrityError:
        raise Conflict("Another plan is running in this chat.", code="run_active") from None
    if not changed:
        current = Plan.objects.filter(pk=plan.pk).values_list("status", flat=True).first()
        raise Conflict(f"The plan is {current}; a plan runs once.", code="plan_not_draft")
    plan.status = Plan.Status.RUNNING
    return plan


def plan_start_undo(*, plan: Plan) -> None:
    """Back to draft when the run could not start (nothing ran)."""
    Plan.objects.filter(pk=plan.pk, status=Plan.Status.RUNNING, run__isnull=True).update(status=Plan.Status.DRAFT)


def plan_attach_run(*, plan: Plan, run_id: Any) -> None:
    Plan.objects.filter(pk=plan.pk).update(run_id=run_id)


@dataclass(frozen=True)
class StepChange:
    plan_id: str
    index: int
    status: str

    def event(self) -> dict[str, Any]:
        return {"planId": self.plan_id, "index": self.index, "status": self.status}


def plan_step_report(*, chat_id: Any, arguments: dict[str, Any]) -> StepChange:
    """The ``update_plan_step`` tool: ``{index, status}`` for the plan running in the chat (at most one).

    Raises:
        ValidationFailed: a bad index or status. NotFound: the plan is not running.
    """
    index, status = arguments.get("index"), arguments.get("status")
    if status not in STEP_STATUSES_SETTABLE:
        raise ValidationFailed(f"status must be one of {', '.join(STEP_STATUSES_SETTABLE)}.", field="status")
    if isinstance(index, bool) or not isinstance(index, int):
        raise ValidationFailed("index must be the step's number (1, 2, …).", field="index")
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(chat_id=chat_id, status=Plan.Status.RUNNING).first()
        if plan is None:
            raise NotFound("No plan is running in this chat.")
        updated = PlanStep.objects.filter(plan=plan, index=index).update(status=status)
        if not updated:
            total = PlanStep.objects.filter(plan=plan).count()
            raise ValidationFailed(f"index must be between 1 and {total}.", field="index")
    return StepChange(str(plan.pk), index, status)


def plan_settle(*, plan_id: Any, run_status: str) -> list[StepChange]:
    """End a plan's run: the steps it left open are decided by the run's outcome.

    A completed run finishes its steps (running and pending → done); any other outcome
    fails the step that was running and skips those never started. The plan ends
    ``completed`` when no step failed, else ``failed``.

    Returns:
        The step changes made, in step order (each becomes a ``plan.step`` event).
    """
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(pk=plan_id, status=Plan.Status.RUNNING).first()
        if plan is None:
            return []
        steps = list(PlanStep.objects.filter(plan=plan).order_by("index"))
        open_steps = [s for s in steps if s.status in (PlanStep.Status.PENDING, PlanStep.Status.RUNNING)]
        for step in open_steps:
            if run_status == "completed":
                step.status = PlanStep.Status.DONE
            elif step.status == PlanStep.Status.RUNNING:
                step.status = PlanStep.Status.FAILED
            else:
                step.status = PlanStep.Status.SKIPPED
        PlanStep.objects.bulk_update(open_steps, ["status"])
        changes = [StepChange(str(plan.pk), step.index, step.status) for step in open_steps]
        failed = run_status != "completed" or any(s.status == PlanStep.Status.FAILED for s in steps)
        plan.status = Plan.Status.FAILED if failed else Plan.Status.COMPLETED
        plan.save(update_fields=["status", "updated_at"])
    return changes


def plans_reconcile(*, chat_id: Any) -> None:
    """Settle plans whose run ended without settling them (a worker that died mid-run)."""
    stale = Plan.objects.filter(chat_id=chat_id, status=Plan.Status.RUNNING).filter(
        Q(run__isnull=False) & ~Q(run__status="running"))
    for plan_id, run_status in stale.values_list("pk", "run__status"):
        plan_settle(plan_id=plan_id, run_status=run_status)


def plan_run_prompt(*, plan: Plan) -> str:
    """The message a plan run sends: the steps, in order, and how to report progress."""
    lines = ["Run this plan now, step by step, in build mode. After each step, call `update_plan_step` "
             "with its number and status (running, done, failed or skipped).", ""]
    for step in plan.steps.all():
        lines.append(f"{step.index}. {step.title}")
        if step.description:
            lines.extend(f"   {line}" for line in step.description.splitlines())
        if step.files:
            lines.append(f"   Files: {', '.join(step.files)}")
        lines.append(f"   Risk: {step.risk}")
    return "\n".join(lines)


@dataclass(frozen=True)
class PlanRunClaim:
    chat: Chat
    plan: Plan
    prompt: str
    attach_run_id: str | None = None  # a repeated clientMessageId: the run it already started


def plan_run_claim(*, workspace: Any, project_id: Any, chat_id: Any, plan_id: Any = None,
                   client_message_id: str | None = None) -> PlanRunClaim:
    """Claim the chat's plan (its latest, or ``plan_id``) for a run: it becomes ``running``.

    Checked before any provider call; the caller starts the run, or undoes the claim
    (``plan_start_undo``) when starting fails. A ``client_message_id`` that already ran this
    plan claims nothing: the claim names that run to attach to.

    Raises:
        NotFound: no such chat in the workspace's project, or no such plan in the chat.
        Conflict: ``plan_not_draft`` (it ran or runs) or ``run_active`` (the chat is answering).
    """
    from apps.chats.models import Run
    from apps.chats.selectors import chat_get
    from apps.core.selectors import parse_uuid
    from apps.plans.selectors import plan_latest_for_chat
    from apps.projects.selectors import project_get

    project = project_get(workspace=workspace, project_id=project_id)
    chat = chat_get(workspace=workspace, chat_id=chat_id, project=project)
    plans_reconcile(chat_id=chat.pk)
    if plan_id is not None:
        pk = parse_uuid(plan_id)
        plan = Plan.objects.prefetch_related("steps").filter(chat=chat, pk=pk).first() if pk else None
    else:
        plan = plan_latest_for_chat(chat=chat)
    if plan is None:
        raise NotFound("Plan not found.")
    if client_message_id:
        earlier = Run.objects.filter(chat=chat, user_message__client_message_id=client_message_id,
                                     user_message__parts__metadata__planId=str(plan.pk)).values_list("pk", flat=True)
        if earlier:
            return PlanRunClaim(chat, plan, "", attach_run_id=str(earlier[0]))
    _require_draft(plan, "run")
    if Run.objects.filter(chat=chat, status=Run.Status.RUNNING).exists():
        raise Conflict("The chat is answering another message; wait for it or stop it.", code="run_active")
    plan_start(plan=plan)
    return PlanRunClaim(chat, plan, plan_run_prompt(plan=plan))
