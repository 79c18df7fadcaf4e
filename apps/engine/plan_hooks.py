"""Plans inside a run, called from the runner at three points.

* ``before_model`` — a planning run (its mode allows ``submit_plan``; plan mode does) sees the
  project's file paths in its context; a run of a plan (``RunContext.plan_id``) is tied to
  the plan and is offered ``update_plan_step``, with the plan in its context.
* ``after_answer`` — a planning run's plan (the one ``submit_plan`` stored, else the one parsed
  from the final Markdown) is announced with ``plan.ready`` before the terminal event.
* ``settle`` — a run of a plan closes the steps it left open by its outcome (``plan.step``
  events) and the plan ends completed or failed.

A failure after the answer (``after_answer``, ``settle``) is logged and never changes the run's
outcome: the answer is already there. ``before_model`` runs before the provider is called; a failure
there ends the run with an ``error`` event like any other failure before the model.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from apps.engine import events as ev
from apps.engine.db import run_db, write_db
from apps.engine.tools import SUBMIT_PLAN, UPDATE_PLAN_STEP, tool_specs

if TYPE_CHECKING:
    from apps.engine.prompting import PreparedPrompt
    from apps.engine.runner import RunContext
    from apps.engine.runtime import ActiveRun

logger = logging.getLogger(__name__)

PLAN_RUN_PROMPT = (
    "## Running a plan\nThe user asked you to run the plan in their message. Work its steps in order. "
    "Call `update_plan_step` with a step's number when you start it (running) and when it is done, "
    "failed or skipped."
)


def is_planning(prepared: PreparedPrompt) -> bool:
    return SUBMIT_PLAN in prepared.allowed_tools


def _plan_context(*, chat: Any, plan_id: str | None, run_id: str) -> tuple[list[str], dict[str, Any] | None]:
    """The project's file paths; for a run of a plan, the plan (now tied to the run)."""
    from apps.plans.models import Plan
    from apps.plans.selectors import plan_payload
    from apps.projects.models import ProjectFile

    files = list(ProjectFile.objects.filter(project_id=chat.project_id).order_by("path")
                 .values_list("path", flat=True)[:500])
    if plan_id is None:
        return files, None
    Plan.objects.filter(pk=plan_id).update(run_id=run_id)
    plan = Plan.objects.prefetch_related("steps").filter(pk=plan_id).first()
    return files, plan_payload(plan) if plan is not None else None


async def before_model(active: ActiveRun, ctx: RunContext, prepared: PreparedPrompt) -> None:
    if ctx.plan_id is None and not is_planning(prepared):
        return
    files, plan = await run_db(_plan_context, chat=ctx.prompt_input.chat, plan_id=ctx.plan_id, run_id=active.run_id)
    prepared.context["project_files"] = files
    if plan is not None:
        prepared.context["plan"] = plan
        prepared.tools.append(tool_specs()[UPDATE_PLAN_STEP])
        prepared.allowed_tools = prepared.allowed_tools | {UPDATE_PLAN_STEP}
        prepared.system = f"{prepared.system}\n\n{PLAN_RUN_PROMPT}"


def _plan_of_answer(*, chat: Any, message_id: str, run_id: str, text: str) -> dict[str, Any] | None:
    from apps.plans.selectors import step_payload
    from apps.plans.services import plan_from_answer

    plan = plan_from_answer(chat=chat, message_id=message_id, run_id=run_id, text=text)
    if plan is None:
        return None
    return {"planId": str(plan.pk), "steps": [step_payload(step) for step in plan.steps.order_by("index")]}


async def after_answer(active: ActiveRun, ctx: RunContext, prepared: PreparedPrompt) -> None:
    if not is_planning(prepared):
        return
    try:
        payload = await run_db(_plan_of_answer, chat=ctx.prompt_input.chat, message_id=active.message_id,
                               run_id=active.run_id, text=active.text)
    except Exception:
        logger.exception("could not store the plan of run %s", active.run_id)
        return
    if payload is not None:
        active.emit(ev.PLAN_READY, payload)


async def settle(active: ActiveRun, ctx: RunContext, status: str) -> None:
    if ctx.plan_id is None:
        return
    from apps.plans.services import plan_settle

    try:
        changes = await write_db(plan_settle, plan_id=ctx.plan_id, run_status=status)
    except Exception:
        logger.exception("could not settle the plan of run %s", active.run_id)
        return
    for change in changes:
        active.emit(ev.PLAN_STEP, change.event())
