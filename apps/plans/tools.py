"""The plan tools: ``submit_plan`` (planning modes) and ``update_plan_step`` (a run of a plan).

The engine offers and dispatches them (apps.engine.tools); this module holds their
schemas and what they do, and returns plain data (result, events) for the engine to wrap.
"""
from __future__ import annotations

from typing import Any, Final

from apps.chats.models import Chat
from apps.plans.parsing import MAX_DESCRIPTION, MAX_FILES, MAX_STEPS, MAX_TITLE
from apps.providers.base import ToolSpec

SUBMIT_PLAN: Final = "submit_plan"
UPDATE_PLAN_STEP: Final = "update_plan_step"
PLAN_STEP_EVENT: Final = "plan.step"

SUBMIT_PLAN_TOOL: Final = ToolSpec(
    name=SUBMIT_PLAN,
    description=(
        "Store your plan as structured steps, once you have worked it out. Each step: a short title, "
        "a description of what to do, the project-relative files it touches and its risk (low, medium "
        "or high). Also write the plan in your answer as a numbered Markdown list for the reader. "
        "Calling it again in the same answer replaces the stored plan."
    ),
    parameters={
        "type": "object",
        "properties": {
            "steps": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_STEPS,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string", "maxLength": MAX_TITLE},
                        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                        "files": {"type": "array", "items": {"type": "string", "maxLength": 500},
                                  "maxItems": MAX_FILES},
                        "risk": {"type": "string", "enum": ["low", "medium", "high"]},
                    },
                    "required": ["title", "risk"],
                },
            },
            "summary": {"type": "string", "description": "one or two sentences on the plan as a whole"},
        },
        "required": ["steps"],
    },
)

UPDATE_PLAN_STEP_TOOL: Final = ToolSpec(
    name=UPDATE_PLAN_STEP,
    description=(
        "Report progress on the plan you are running: call it with a step's number when you start it "
        "(running) and when it is done, failed or skipped. Steps you leave open are closed when your "
        "answer ends: done if it completes, failed or skipped if it does not."
    ),
    parameters={
        "type": "object",
        "properties": {
            "index": {"type": "integer", "minimum": 1, "description": "the step's number, from 1"},
            "status": {"type": "string", "enum": ["running", "done", "failed", "skipped"]},
        },
        "required": ["index", "status"],
    },
)

Events = list[tuple[str, dict[str, Any]]]


def run_plan_tool(*, name: str, chat: Chat, args: dict[str, Any], source_message_id: Any) -> tuple[Any, Events]:
    """Execute a plan tool (sync, in an engine DB thread).

    Returns:
        (the tool's result for the model, canonical events to emit).
    Raises:
        ApplicationError: ValidationFailed / NotFound with a message for the model.
    """
    from apps.plans.services import plan_step_report, plan_submit

    if name == SUBMIT_PLAN:
        plan = plan_submit(chat=chat, arguments=args, source_message_id=source_message_id)
        return {"ok": True, "planId": str(plan.pk), "steps": plan.steps.count()}, []
    change = plan_step_report(chat_id=chat.pk, arguments=args)
    return {"ok": True, **change.event()}, [(PLAN_STEP_EVENT, change.event())]
