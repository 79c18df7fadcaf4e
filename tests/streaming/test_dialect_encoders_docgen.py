"""The seed 002/003 encoders and request parsing, without a server."""
from __future__ import annotations

import json
from typing import Any

import pytest

from apps.core.errors import AuthenticationFailed, RateLimited, ValidationFailed
from apps.engine import events as ev
from apps.streaming.dialects import docgen
from apps.streaming.docgen_requests import RequestInvalid, parse_generate_request, parse_json, parse_stream_request


def event(seq: int, type_: str, **payload: Any) -> dict[str, Any]:
    return ev.envelope(seq=seq, run_id="run-1", chat_id="chat-1", type=type_, payload=payload)


def frames(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in data.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if line)
        if lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


RUN = [
    event(1, ev.RUN_STARTED, userMessageId="u", assistantMessageId="a", model="offline", provider="offline"),
    event(2, ev.RAG_SOURCES, sources=[{"docType": "TECH_STACK", "path": "a.md"}, {"docType": "PROJECT_MANIFESTO"},
                                      {"docType": "TECH_STACK"}]),
    event(3, ev.MESSAGE_DELTA, delta="# Project"),
    event(4, ev.DSL_PHASE, phase="clarifying"),
    event(5, ev.MESSAGE_DELTA, delta=" Manifesto"),
    event(6, ev.ASSISTANT_MESSAGE, text="# Project Manifesto"),
    event(7, ev.USAGE_INFO, inputTokens=10, outputTokens=4, cost=0.0),
    event(8, ev.TASK_COMPLETE, status="completed"),
]


def test_stream_encoder_emits_message_then_a_done_with_the_real_text_sources_and_metadata():
    encoder = docgen.StreamEncoder(doc_type="PROJECT_MANIFESTO", project_id="p", conversation_id="c")
    out = frames(b"".join(encoder.encode(e) for e in RUN))
    assert out[:2] == [("message", {"token": "# Project", "is_final": False}),
                       ("message", {"token": " Manifesto", "is_final": False})]
    name, done = out[2]
    assert name == "done" and len(out) == 3
    assert done["full_response"] == "# Project Manifesto" and done["is_final"] is True
    assert done["sources"] == ["PROJECT_MANIFESTO", "TECH_STACK"]
    assert done["metadata"] == {"template_used": "PROJECT_MANIFESTO", "project_id": "p", "conversation_id": "c",
                                "model": "offline", "provider": "offline", "run_id": "run-1", "chat_id": "chat-1",
                                "usage": {"input_tokens": 10, "output_tokens": 4, "cost": 0.0},
                                "status": "completed"}


def test_unsorted_uses_no_template():
    encoder = docgen.StreamEncoder(doc_type="UNSORTED", project_id="p", conversation_id="c")
    done = frames(encoder.encode(event(2, ev.TASK_COMPLETE, status="completed")))[0][1]
    assert done["sources"] == [] and done["metadata"]["template_used"] is None


@pytest.mark.parametrize(("code", "retry", "seed_code", "legacy_code"), [
    ("model_unavailable", True, "LLM_CONNECTION_ERROR", "LLM_001"),
    ("stream_interrupted", True, "LLM_CONNECTION_ERROR", "LLM_001"),
    ("provider_timeout", True, "LLM_CONNECTION_ERROR", "LLM_001"),
    ("no_provider", False, "LLM_CONNECTION_ERROR", "LLM_001"),
    ("provider_error", False, "STREAM_ERROR", "LLM_001"),
    ("RAG_RETRIEVAL_ERROR", False, "RAG_RETRIEVAL_ERROR", "RAG_001"),
    ("internal_error", False, "STREAM_ERROR", "ERR"),
])
def test_error_codes_map_to_the_seed_codes(code, retry, seed_code, legacy_code):
    terminal = event(3, ev.ERROR, error=code, message="it broke", retry=retry)
    stream = docgen.StreamEncoder(doc_type="ADR", project_id="p", conversation_id="c")
    assert frames(stream.encode(terminal)) == [("error", {"error": "it broke", "code": seed_code, "retry": retry})]
    legacy = docgen.LegacyEncoder()
    assert frames(legacy.encode(terminal)) == [("error", {"code": legacy_code, "message": "it broke"})]


def test_legacy_encoder_counts_tokens_and_measures_duration():
    now = [100.0]
    encoder = docgen.LegacyEncoder(clock=lambda: now[0])
    data = b""
    for item in RUN:
        if item["type"] == ev.TASK_COMPLETE:
            now[0] = 101.25
        data += encoder.encode(item)
    assert frames(data) == [("token", {"token": "# Project", "index": 0}),
                            ("token", {"token": " Manifesto", "index": 1}),
                            ("done", {"total_tokens": 4, "duration_ms": 1250})]


def test_parse_stream_request_defaults_and_normalises():
    request = parse_stream_request({"conversation_id": "550e8400-e29b-41d4-a716-446655440000",
                                    "project_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "message": "hi",
                                    "doc_type": "tech-stack", "unknown": "ignored"})
    assert request.user_name == "Developer" and request.doc_type == "TECH_STACK" and request.history is None
    assert parse_stream_request({**request.__dict__, "conversation_id": str(request.conversation_id),
                                 "project_id": str(request.project_id), "doc_type": None,
                                 "history": []}).doc_type == "UNSORTED"


def test_parse_json_reports_the_position_of_a_fault():
    with pytest.raises(RequestInvalid) as caught:
        parse_json(b'{"message": }')
    assert caught.value.errors[0]["loc"] == ["body", 12] and caught.value.errors[0]["type"] == "json_invalid"


def test_parse_generate_keeps_non_string_context_as_json():
    request = parse_generate_request({"message": "hi", "doc_type": "ADR", "project_context": {"team": {"size": 3}}})
    assert request.project_context == {"team": '{"size": 3}'} and request.chat_history == []


def test_http_errors_take_the_seed_servers_shape():
    forbidden = docgen.http_error(AuthenticationFailed("Invalid API key."))
    assert forbidden.status == 403 and docgen.error_body(forbidden) == {"detail": "Invalid API key.",
                                                                        "code": "unauthenticated"}
    field = docgen.http_error(ValidationFailed("Unknown docType", field="docType"))
    assert field.status == 422
    assert docgen.error_body(field)["detail"][0]["loc"] == ["body", "doc_type"]
    limited = docgen.http_error(RateLimited(7))
    assert limited.status == 429 and docgen.error_body(limited)["code"] == "RATE_LIMITED"
