"""Canonical event types (SPEC §3). A run is ``seq`` 1, 2, 3 … with exactly one terminal event."""

from __future__ import annotations

from typing import Any, Final

RUN_STARTED: Final = "run.started"
MESSAGE_DELTA: Final = "assistant.message_delta"
REASONING_DELTA: Final = "assistant.reasoning_delta"
TOOL_CALL: Final = "tool.call"
TOOL_RESULT: Final = "tool.result"
TOOL_ERROR: Final = "tool.error"
DSL_UPDATE: Final = "dsl.update"
DSL_PHASE: Final = "dsl.phase"
RAG_SOURCES: Final = "rag.sources"
PLAN_READY: Final = "plan.ready"
PLAN_STEP: Final = "plan.step"
ASSISTANT_MESSAGE: Final = "assistant.message"
USAGE_INFO: Final = "session.usage_info"
COMPACTION_START: Final = "session.compaction_start"
COMPACTION_COMPLETE: Final = "session.compaction_complete"
ERROR: Final = "error"
TASK_COMPLETE: Final = "session.task_complete"

TERMINAL_TYPES: Final = frozenset({ERROR, TASK_COMPLETE})

Event = dict[str, Any]


def envelope(*, seq: int, run_id: str, chat_id: str, type: str, payload: dict[str, Any]) -> Event:
    """The wire form: ``{"seq", "runId", "chatId", "type", ...payload}``."""
    return {"seq": seq, "runId": run_id, "chatId": chat_id, "type": type, **payload}


ENVELOPE_KEYS: Final = frozenset({"seq", "runId", "chatId", "type"})


def payload_of(event: Event) -> dict[str, Any]:
    """The event's own fields (what RunEvent.payload stores)."""
    return {key: value for key, value in event.items() if key not in ENVELOPE_KEYS}


def is_terminal(event: Event) -> bool:
    return event["type"] in TERMINAL_TYPES
