"""The seed 000 and 004 encoders and the shared body parser, without a server."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from apps.core.errors import ApplicationError, InvalidModel, NoProvider, RateLimited, ValidationFailed
from apps.engine.events import envelope
from apps.streaming.chat_requests import parse_chat_turn
from apps.streaming.dialects import seed000, seed004


def event(seq: int, kind: str, **payload: Any) -> dict[str, Any]:
    return envelope(seq=seq, run_id="r1", chat_id="c1", type=kind, payload=payload)


RUN = [
    event(1, "run.started", userMessageId="u1", assistantMessageId="a1", model="gpt-5", provider="openai"),
    event(2, "assistant.reasoning_delta", delta="hmm"),
    event(3, "assistant.message_delta", delta="I'll help you build"),
    event(4, "tool.call", id="t1", tool="update_domain_model", args={}),
    event(5, "dsl.update", domainModel={"entities": {"Post": {"fields": {}}}, "relationships": [
        {"from": "Post", "to": "User", "type": "many-to-one", "name": "author"}]},
        version=2, phase="proposing", readiness=65, confidence=0.85),
    event(6, "dsl.phase", phase="proposing"),
    event(7, "assistant.message_delta", delta=" a blog."),
    event(8, "assistant.message", text="I'll help you build a blog."),
    event(9, "session.usage_info", inputTokens=150, outputTokens=200, cost=0.01),
    event(10, "session.task_complete", status="completed"),
]


def sse_payloads(data: bytes) -> list[tuple[int | None, Any]]:
    frames = []
    for block in data.decode().split("\n\n"):
        if not block:
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        frames.append((int(lines["id"]) if "id" in lines else None, json.loads(lines["data"])))
    return frames


# --- seed 000 -----------------------------------------------------------------------------------


def test_seed000_maps_the_run_to_the_seeds_frames():
    encode = seed000.SseEncoder()
    frames = sse_payloads(b"".join(encode(e) for e in RUN))
    assert frames == [
        (3, {"type": "text", "content": "I'll help you build"}),
        (5, {"type": "dsl", "content": {
            "entities": {"Post": {"fields": {}}},
            "relationships": [{"from": "Post", "to": "User", "type": "many-to-one", "name": "author"}],
            "phase": "proposing", "readiness": 65, "confidence": 0.85}}),
        (6, {"type": "phase", "content": "proposing"}),
        (7, {"type": "text", "content": " a blog."}),
        (10, {"type": "done", "content": ""}),
    ]


def test_seed000_without_dsl_leaves_dsl_and_phase_out():
    encode = seed000.SseEncoder(enable_dsl=False)
    kinds = [data["type"] for _id, data in sse_payloads(b"".join(encode(e) for e in RUN))]
    assert kinds == ["text", "text", "done"]


def test_seed000_stop_and_error_frames():
    assert seed000.event_frame(event(4, "session.task_complete", status="stopped")) == \
        {"type": "done", "content": "", "stopped": True}
    error = seed000.event_frame(event(4, "error", error="stream_interrupted", message="cut", retry=True))
    assert error == {"type": "error", "content": {"code": "LLM_ERROR", "message": "cut",
                                                  "details": "stream_interrupted", "retry": True}}
    assert seed000.ws_frame(RUN[2]) == {"type": "text", "content": "I'll help you build", "id": 3}
    assert seed000.ws_frame(RUN[0]) is None


def test_seed000_chat_and_history_frames():
    assert seed000.sse_frame(seed000.chat_frame("c9")) == b'data: {"type":"chat","content":{"chatId":"c9"}}\n\n'
    message = SimpleNamespace(id="m1", role="user", content="hi", status="complete",
                              created_at=datetime(2024, 1, 15, 10, 30, tzinfo=UTC))
    frame = seed000.history_frame("c9", [message], has_more=False, run_id=None)
    assert frame == {"type": "history", "content": {"chatId": "c9", "hasMore": False, "activeRunId": None,
                                                    "messages": [{"id": "m1", "role": "user", "content": "hi",
                                                                  "status": "complete",
                                                                  "createdAt": "2024-01-15T10:30:00+00:00"}]}}


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RateLimited(60), {"code": "RATE_LIMITED", "message": "Too many requests. Please wait 60 seconds.",
                           "retryAfter": 60}),
        (InvalidModel("gpt-5", ["claude-3.5-sonnet", "gpt-4-turbo"]),
         {"code": "INVALID_MODEL", "message": "Model 'gpt-5' is not available",
          "availableModels": ["claude-3.5-sonnet", "gpt-4-turbo"]}),
        (NoProvider("Model 'x' needs the openrouter provider.", extra={"model": "x", "provider": "openrouter"}),
         {"code": "LLM_ERROR", "message": "Model 'x' needs the openrouter provider.",
          "details": "Check your OPENROUTER_API_KEY"}),
        (ValidationFailed("temperature must be between 0 and 2.", field="temperature"),
         {"code": "INVALID_REQUEST", "message": "temperature must be between 0 and 2.", "field": "temperature"}),
        (ApplicationError("Chat not found.", code="not_found", status=404),
         {"code": "NOT_FOUND", "message": "Chat not found."}),
    ],
)
def test_seed000_error_bodies_use_the_seeds_codes(exc, expected):
    assert seed000.error_body(exc) == {"error": expected}


# --- seed 004 -----------------------------------------------------------------------------------


def test_seed004_completion_folds_the_run():
    completion = seed004.Completion(session_id="c1")
    for e in RUN:
        completion.add(e)
    body = completion.body(datetime(2024, 1, 15, 10, 30, tzinfo=UTC))
    assert body == {"id": "a1", "sessionId": "c1", "content": "I'll help you build a blog.", "role": "assistant",
                    "model": "gpt-5", "provider": "openai",
                    "usage": {"promptTokens": 150, "completionTokens": 200, "totalTokens": 350},
                    "createdAt": "2024-01-15T10:30:00Z"}
    failed = seed004.Completion(session_id="c1")
    failed.add(event(2, "error", error="provider_error", message="boom", retry=False))
    assert failed.error == {"code": "provider_error", "message": "boom", "retry": False}


def test_seed004_stream_frames():
    encode = seed004.SseEncoder("c1")
    frames = sse_payloads(b"".join(encode(e) for e in RUN))
    assert frames == [
        (2, {"reasoning": "hmm", "sessionId": "c1"}),
        (3, {"content": "I'll help you build", "sessionId": "c1"}),
        (7, {"content": " a blog.", "sessionId": "c1"}),
        (10, {"done": True, "sessionId": "c1", "id": "a1",
              "usage": {"promptTokens": 150, "completionTokens": 200, "totalTokens": 350}}),
    ]
    error = seed004.SseEncoder("c1").frame(event(3, "error", error="rate_limited", message="slow down", retry=True))
    assert error == {"error": {"code": "RATE_LIMITED", "message": "slow down", "retry": True}, "sessionId": "c1"}


@pytest.mark.parametrize(
    ("accept", "body", "expected"),
    [
        ("", {"messages": []}, False),
        ("*/*", {"messages": [], "chatId": "chat_xyz", "enableDSL": True}, False),
        ("*/*", {"messages": [], "projectId": "p", "provider": "openai"}, True),
        ("*/*", {"messages": [], "sessionId": "s"}, True),
        ("application/json", {"messages": []}, True),
        ("text/event-stream", {"messages": [], "projectId": "p"}, False),
        ("text/event-stream;q=1, application/json", {"messages": []}, False),
        ("application/json", {"messages": [], "stream": True}, False),
        ("text/event-stream", {"messages": [], "stream": False}, True),
    ],
)
def test_seed004_json_or_sse_rule(accept, body, expected):
    assert seed004.wants_json(accept, body) is expected


# --- the shared body parser ---------------------------------------------------------------------


def test_parse_turn_splits_the_turn_from_the_history(settings):
    turn = parse_chat_turn({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a"},
                                         {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}],
                            "chatId": "chat_xyz", "temperature": 0.3, "enableDSL": False, "provider": "OpenAI"})
    assert turn.text == "c"
    assert turn.history == [("system", "be brief"), ("user", "a"), ("assistant", "b")]
    assert turn.chat_id == "chat_xyz" and turn.provider == "openai" and turn.enable_dsl is False
    assert parse_chat_turn({"messages": [{"role": "user", "content": "only"}]}).history is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": [{"role": "user", "content": "a"}], "chatId": "x", "sessionId": "y"}, "sessionId"),
        ({"messages": [{"role": "user", "content": "  "}]}, "messages[0].content"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": "a"}], "stream": "yes"}, "stream"),
        ({"messages": [{"role": "user", "content": "a"}], "maxTokens": 0}, "maxTokens"),
        ({"messages": [{"role": "user", "content": "a"}], "model": ""}, "model"),
        ({"messages": [{"role": "user", "content": "a"}], "projectId": 5}, "projectId"),
    ],
)
def test_parse_turn_names_the_bad_field(body, field, settings):
    with pytest.raises(ValidationFailed) as caught:
        parse_chat_turn(body)
    assert caught.value.extra["field"] == field
