"""The AI SDK encoder as a pure mapping: canonical events in, UI-message chunks out."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from apps.engine import events as ev
from apps.streaming.dialects.aisdk import DONE, UIMessageStreamEncoder

JS = Path(__file__).resolve().parent / "js"


class Run:
    """Builds a run's canonical events with consecutive seqs."""

    def __init__(self) -> None:
        self.seq = 0
        self.events: list[ev.Event] = []

    def add(self, type_: str, **payload: Any) -> Run:
        self.seq += 1
        self.events.append(ev.envelope(seq=self.seq, run_id="r1", chat_id="c1", type=type_, payload=payload))
        return self

    def started(self) -> Run:
        return self.add(ev.RUN_STARTED, userMessageId="u1", assistantMessageId="a1", model="m", provider="p")

    def ended(self, status: str = "completed") -> Run:
        self.add(ev.USAGE_INFO, inputTokens=10, outputTokens=4, cost=0.001)
        return self.add(ev.TASK_COMPLETE, status=status)


def encode_all(events: list[ev.Event]) -> list[dict[str, Any]]:
    encoder = UIMessageStreamEncoder()
    return [chunk for event in events for chunk in encoder.chunks(event)]


def types(chunks: list[dict[str, Any]]) -> list[str]:
    return [c["type"] for c in chunks]


def test_a_text_answer_is_one_text_block_in_one_step_between_start_and_finish() -> None:
    run = Run().started().add(ev.MESSAGE_DELTA, delta="Hel").add(ev.MESSAGE_DELTA, delta="lo")
    run.add(ev.ASSISTANT_MESSAGE, text="Hello").ended()
    chunks = encode_all(run.events)
    assert types(chunks) == ["start", "start-step", "text-start", "text-delta", "text-delta", "text-end",
                             "finish-step", "finish"]
    assert chunks[0] == {"type": "start", "messageId": "a1", "messageMetadata": {
        "runId": "r1", "chatId": "c1", "userMessageId": "u1", "model": "m", "provider": "p"}}
    block = chunks[2]["id"]
    assert all(c["id"] == block for c in chunks[2:6]) and [c["delta"] for c in chunks[3:5]] == ["Hel", "lo"]
    assert chunks[-1] == {"type": "finish", "finishReason": "stop", "messageMetadata": {
        "status": "completed", "usage": {"inputTokens": 10, "outputTokens": 4, "cost": 0.001}}}


def test_reasoning_and_text_alternate_as_separate_blocks_with_distinct_ids() -> None:
    run = Run().started().add(ev.REASONING_DELTA, delta="think").add(ev.MESSAGE_DELTA, delta="say")
    run.add(ev.REASONING_DELTA, delta="more").ended()
    chunks = encode_all(run.events)
    assert types(chunks)[2:9] == ["reasoning-start", "reasoning-delta", "reasoning-end", "text-start",
                                  "text-delta", "text-end", "reasoning-start"]
    ids = [c["id"] for c in chunks if c["type"].endswith("-start") and c["type"] != "start-step"]
    assert len(set(ids)) == 3
    assert types(chunks)[-4:] == ["reasoning-delta", "reasoning-end", "finish-step", "finish"]


def test_tool_calls_close_the_text_and_the_answer_after_them_is_a_new_step() -> None:
    run = Run().started().add(ev.MESSAGE_DELTA, delta="Saving. ")
    run.add(ev.TOOL_CALL, id="t1", tool="update_domain_model", args={"entities": {}})
    run.add(ev.TOOL_RESULT, id="t1", result={"version": 1})
    run.add(ev.TOOL_CALL, id="t2", tool="read_file", args={"path": "x"})
    run.add(ev.TOOL_ERROR, id="t2", error="No such file")
    run.add(ev.MESSAGE_DELTA, delta="Done.").ended()
    chunks = encode_all(run.events)
    assert types(chunks) == [
        "start", "start-step", "text-start", "text-delta", "text-end",
        "tool-input-available", "tool-output-available", "tool-input-available", "tool-output-error",
        "finish-step", "start-step", "text-start", "text-delta", "text-end", "finish-step", "finish",
    ]
    assert chunks[5] == {"type": "tool-input-available", "toolCallId": "t1", "toolName": "update_domain_model",
                         "input": {"entities": {}}}
    assert chunks[6] == {"type": "tool-output-available", "toolCallId": "t1", "output": {"version": 1}}
    assert chunks[8] == {"type": "tool-output-error", "toolCallId": "t2", "errorText": "No such file"}
    assert chunks[2]["id"] != chunks[11]["id"]


def test_domain_models_share_one_data_part_id_and_sources_become_documents() -> None:
    dsl = {"domainModel": {"entities": {"Post": {}}, "relationships": []}, "version": 1, "phase": "proposing",
           "readiness": 40, "confidence": 0.5}
    source = {"documentId": "d1", "path": "docs/auth.md", "docType": "UNSORTED", "score": 0.9, "snippet": "keys"}
    run = Run().started().add(ev.RAG_SOURCES, sources=[source, {**source, "path": "notes", "score": 0.5}])
    run.add(ev.DSL_UPDATE, **dsl).add(ev.DSL_UPDATE, **{**dsl, "version": 2}).add(ev.DSL_PHASE, phase="ready")
    run.add(ev.PLAN_READY, planId="p1", steps=[{"title": "Do it"}]).ended()
    chunks = encode_all(run.events)
    documents = [c for c in chunks if c["type"] == "source-document"]
    assert documents[0] == {"type": "source-document", "sourceId": "d1#0", "mediaType": "text/markdown",
                            "title": "docs/auth.md", "filename": "docs/auth.md",
                            "providerMetadata": {"blueprint": {"documentId": "d1", "docType": "UNSORTED",
                                                               "score": 0.9, "snippet": "keys"}}}
    assert documents[1]["sourceId"] == "d1#1" and documents[1]["mediaType"] == "text/plain"
    updates = [c for c in chunks if c["type"] == "data-dsl"]
    assert [c["id"] for c in updates] == ["dsl", "dsl"] and [c["data"]["version"] for c in updates] == [1, 2]
    assert updates[0]["data"] == dsl
    assert {"type": "data-dsl-phase", "id": "dsl-phase", "data": {"phase": "ready"}} in chunks
    assert {"type": "data-plan", "id": "p1", "data": {"planId": "p1", "steps": [{"title": "Do it"}]}} in chunks


def test_stop_is_an_abort_then_a_finish_and_errors_end_with_an_error_chunk() -> None:
    stopped = encode_all(Run().started().add(ev.MESSAGE_DELTA, delta="Part").ended("stopped").events)
    assert types(stopped)[-5:] == ["text-delta", "text-end", "finish-step", "abort", "finish"]
    assert stopped[-2] == {"type": "abort", "reason": "stopped"}
    assert stopped[-1]["finishReason"] == "other" and stopped[-1]["messageMetadata"]["status"] == "stopped"

    failed = Run().started().add(ev.REASONING_DELTA, delta="hm")
    failed.add(ev.ERROR, error="stream_interrupted", message="openai stopped mid-answer", retry=True)
    chunks = encode_all(failed.events)
    assert types(chunks)[-4:] == ["reasoning-end", "finish-step", "error", "finish"]
    assert chunks[-2] == {"type": "error", "errorText": "openai stopped mid-answer"}
    assert chunks[-1] == {"type": "finish", "finishReason": "error", "messageMetadata": {
        "status": "error", "error": {"code": "stream_interrupted", "retry": True}}}

    reaped = Run().started().add(ev.ERROR, error="interrupted", message="The worker stopped.", retry=True)
    assert encode_all(reaped.events)[-1]["finishReason"] == "interrupted"


def test_the_final_text_is_sent_only_when_no_deltas_carried_it() -> None:
    without_deltas = encode_all(Run().started().add(ev.ASSISTANT_MESSAGE, text="All at once").ended().events)
    assert [c.get("delta") for c in without_deltas if c["type"] == "text-delta"] == ["All at once"]
    with_deltas = encode_all(Run().started().add(ev.MESSAGE_DELTA, delta="x")
                             .add(ev.ASSISTANT_MESSAGE, text="x").ended().events)
    assert [c["delta"] for c in with_deltas if c["type"] == "text-delta"] == ["x"]


def test_compaction_is_transient_and_unknown_events_are_left_out() -> None:
    run = Run().started().add(ev.COMPACTION_START).add(ev.COMPACTION_COMPLETE, summaryTokens=120)
    run.add("some.future_event", x=1)
    chunks = encode_all(run.events)[2:]
    assert chunks == [
        {"type": "data-compaction", "data": {"status": "started"}, "transient": True},
        {"type": "data-compaction", "transient": True, "data": {"status": "complete", "summaryTokens": 120}},
    ]


def test_frames_are_single_data_lines_of_json_and_the_stream_ends_with_done() -> None:
    encoder = UIMessageStreamEncoder()
    run = Run().started().add(ev.MESSAGE_DELTA, delta="line one\nline two \u2713")
    raw = b"".join(encoder.encode(e) for e in run.events)
    frames = raw.decode().split("\n\n")
    assert frames[-1] == "" and all(f.startswith("data: ") and "\n" not in f for f in frames[:-1])
    chunks = [json.loads(f[len("data: "):]) for f in frames[:-1]]
    assert chunks[-1]["delta"] == "line one\nline two \u2713"
    assert encoder.done() == DONE == b"data: [DONE]\n\n"
    assert encoder.encode(Run().add(ev.USAGE_INFO, inputTokens=1, outputTokens=1, cost=0).events[0]) == b""


def test_every_chunk_of_a_full_run_passes_the_ai_packages_schema_and_reader() -> None:
    node = shutil.which("node")
    assert node, "node is required for the AI SDK tests"
    source = {"documentId": "d1", "path": "docs/a.md", "docType": "UNSORTED", "score": 0.9, "snippet": "s"}
    run = Run().started().add(ev.RAG_SOURCES, sources=[source]).add(ev.REASONING_DELTA, delta="Think.")
    run.add(ev.MESSAGE_DELTA, delta="Hi. ").add(ev.DSL_UPDATE, domainModel={"entities": {}}, version=1)
    run.add(ev.TOOL_CALL, id="t1", tool="update_domain_model", args={"entities": {}})
    run.add(ev.DSL_PHASE, phase="proposing").add(ev.TOOL_RESULT, id="t1", result={"version": 1})
    run.add(ev.TOOL_CALL, id="t2", tool="read_file", args="{broken").add(ev.TOOL_ERROR, id="t2", error="bad JSON")
    run.add(ev.COMPACTION_START).add(ev.COMPACTION_COMPLETE, summaryTokens=3)
    run.add(ev.MESSAGE_DELTA, delta="Bye.").add(ev.PLAN_READY, planId="p1", steps=[])
    run.add(ev.ASSISTANT_MESSAGE, text="Hi. Bye.").ended("stopped")
    encoder = UIMessageStreamEncoder()
    stream = b"".join(encoder.encode(e) for e in run.events) + b": ping\n\n" + encoder.done()
    done = subprocess.run([node, str(JS / "aisdk_read.mjs"), '{"stdin": true}'], input=stream,
                          capture_output=True, timeout=60, check=True)
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["invalid"] == [] and result["errors"] == []
    assert len(result["chunks"]) == len(encode_all(run.events))
    message = result["message"]
    assert message["id"] == "a1" and message["metadata"]["status"] == "stopped"
    assert [p["type"] for p in message["parts"]] == [
        "step-start", "source-document", "reasoning", "text", "data-dsl", "tool-update_domain_model",
        "data-dsl-phase", "tool-read_file", "step-start", "text", "data-plan",
    ]
    tools = [p for p in message["parts"] if p["type"].startswith("tool-")]
    assert [t["state"] for t in tools] == ["output-available", "output-error"]
    assert tools[1]["errorText"] == "bad JSON" and tools[1]["input"] == "{broken"
