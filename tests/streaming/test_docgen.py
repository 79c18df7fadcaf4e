"""Seeds 002/003 over real HTTP: /api/v1/chat/stream, the legacy /generate, the deprecated /message."""
from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from apps.knowledge.models import Document
from apps.projects.models import Project
from tests.conftest import make_tenant
from tests.engine.conftest import FAKE_MODEL, text_script
from tests.fakes.script import Script
from tests.streaming.conftest import SSEEvent, read_sse

pytestmark = pytest.mark.django_db(transaction=True)

# Seed 003's examples, verbatim (the body after -d).
SEED_STREAM_BODY = '''{
    "conversation_id": "550e8400-e29b-41d4-a716-446655440000",
    "project_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "message": "Generate a project manifesto for a Flutter task manager app",
    "doc_type": "PROJECT_MANIFESTO",
    "user_name": "Developer"
  }'''
SEED_GENERATE_BODY = '''{
    "message": "Design a microservices architecture for an e-commerce platform",
    "doc_type": "ARCHITECTURE_SPEC",
    "project_context": {},
    "chat_history": []
  }'''


def parse_sse_text(text: str) -> list[SSEEvent]:
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                key, _, value = line.partition(": ")
                fields[key] = value
        if "data" in fields:
            events.append(SSEEvent(int(fields["id"]) if "id" in fields else None, fields.get("event"),
                                   json.loads(fields["data"])))
    return events


async def curl(url: str, key: str, body: str) -> str:
    """The seed's curl command line, with only the API key added; returns what it prints."""
    process = await asyncio.create_subprocess_exec(
        "curl", "-X", "POST", url, "-H", "Content-Type: application/json", "-H", f"X-API-Key: {key}",
        "--no-buffer", "-d", body, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err
    return out.decode()


def key_headers(tenant: Any) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json"}


async def post(live: Any, tenant: Any, path: str, body: Any, **extra: str) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return await live.session.post(f"{live.url}{path}", data=data, headers={**key_headers(tenant), **extra})


def stream_body(**fields: Any) -> dict[str, Any]:
    return {"conversation_id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()),
            "message": "Write the manifesto of a recipe sharing app", **fields}


async def test_seed_stream_curl_example_works_on_a_fresh_server(asgi_server, tenant_async):
    body = await curl(f"{asgi_server.url}/api/v1/chat/stream", tenant_async.raw_key, SEED_STREAM_BODY)
    events = parse_sse_text(body)
    messages = [e for e in events if e.event == "message"]
    assert messages and all(e.data["is_final"] is False and isinstance(e.data["token"], str) for e in messages)
    done = events[-1]
    assert done.event == "done" and done.data["is_final"] is True
    text = "".join(e.data["token"] for e in messages)
    assert done.data["full_response"] == text and text.strip()
    assert done.data["sources"][0] == "PROJECT_MANIFESTO"
    metadata = done.data["metadata"]
    assert metadata["template_used"] == "PROJECT_MANIFESTO" and metadata["model"] == "offline"
    assert metadata["usage"]["output_tokens"] > 0 and metadata["status"] == "completed"
    run = await Run.objects.select_related("chat__project").aget(pk=metadata["run_id"])
    assert run.chat.project.workspace_id == tenant_async.workspace.pk
    assert str(run.chat.project_id) == metadata["project_id"]
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == text
    user = await Message.objects.aget(pk=run.user_message_id)
    assert user.content == "Generate a project manifesto for a Flutter task manager app"
    assert user.parts["docType"] == "PROJECT_MANIFESTO"
    document = await Document.objects.aget(project_id=run.chat.project_id, path="PROJECT_MANIFESTO.md")
    assert document.content == text

    # The same conversation_id again continues the same chat in the same project.
    again = await curl(f"{asgi_server.url}/api/v1/chat/stream", tenant_async.raw_key, SEED_STREAM_BODY)
    second = parse_sse_text(again)[-1].data["metadata"]
    assert second["chat_id"] == metadata["chat_id"] and second["project_id"] == metadata["project_id"]
    assert await Message.objects.filter(chat_id=metadata["chat_id"], role="user").acount() == 2


async def test_seed_generate_curl_example_streams_tokens_with_real_figures(asgi_server, tenant_async):
    body = await curl(f"{asgi_server.url}/api/v1/chat/generate", tenant_async.raw_key, SEED_GENERATE_BODY)
    events = parse_sse_text(body)
    tokens = [e for e in events if e.event == "token"]
    assert [e.data["index"] for e in tokens] == list(range(len(tokens))) and len(tokens) > 3
    done = events[-1]
    assert done.event == "done" and set(done.data) == {"total_tokens", "duration_ms"}
    run = await Run.objects.select_related("chat__project").aget(chat__project__workspace=tenant_async.workspace)
    assert done.data["total_tokens"] == run.output_tokens > 0
    assert done.data["duration_ms"] > 0
    text = "".join(e.data["token"] for e in tokens)
    assert (await Message.objects.aget(pk=run.assistant_message_id)).content == text
    assert await Document.objects.filter(project=run.chat.project, path="ARCHITECTURE_SPEC.md").aexists()


async def test_stream_uses_an_existing_project_and_its_documents(asgi_server, tenant_async):
    from apps.knowledge.services import document_upload

    await sync_to_async(document_upload)(project=tenant_async.project, path="docs/stack.md", mode="inline",
                                         content="# Stack\n\nThe recipe app stores data in Postgres with pgvector.")
    body = stream_body(project_id=str(tenant_async.project.pk), doc_type="TECH_STACK",
                       message="Which database does the recipe app use?", metadata={"client": "cli", "n": 1},
                       history=[{"role": "user", "content": "We build a recipe app."},
                                {"role": "assistant", "content": "Noted."}],
                       project_context={"PROJECT_MANIFESTO.md": "# Manifesto\nRecipes for everyone."})
    response = await post(asgi_server, tenant_async, "/api/v1/chat/stream", body)
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Connection"] == "keep-alive" and "Content-Encoding" not in response.headers
    events = await read_sse(response)
    done = events[-1].data
    assert response.headers["X-Run-Id"] == done["metadata"]["run_id"]
    assert done["metadata"]["project_id"] == str(tenant_async.project.pk)
    assert done["sources"][0] == "TECH_STACK" and len(done["sources"]) == len(set(done["sources"]))
    run = await Run.objects.aget(pk=done["metadata"]["run_id"])
    user = await Message.objects.aget(pk=run.user_message_id)
    assert user.parts["metadata"] == {"client": "cli", "n": 1}
    assistant = await Message.objects.aget(pk=run.assistant_message_id)
    assert "docs/stack.md" in [s["path"] for s in assistant.parts["sources"]]
    assert await Document.objects.filter(project=tenant_async.project, path="PROJECT_MANIFESTO.md",
                                         source="context").aexists()


async def test_stream_relays_an_upstream_model_and_its_failure_codes(asgi_server, tenant_async, fake_openai,
                                                                      fast_engine):
    fast_engine.DEFAULT_MODEL = FAKE_MODEL
    fake_openai.set_script(text_script(5))
    body = stream_body(project_id=str(tenant_async.project.pk))
    events = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", body))
    assert "".join(e.data["token"] for e in events if e.event == "message") == "".join(text_script(5).text)
    assert events[-1].data["metadata"]["model"] == FAKE_MODEL

    fake_openai.set_script(Script.error(503))  # unreachable after every retry
    events = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", body))
    assert events[-1].event == "error"
    assert events[-1].data == {**events[-1].data, "code": "LLM_CONNECTION_ERROR", "retry": True}
    assert events[-1].data["error"]

    fake_openai.set_script(Script.error(400))  # a persistent upstream refusal
    events = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", body))
    assert events[-1].data == {**events[-1].data, "code": "STREAM_ERROR", "retry": False}
    events = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/generate",
                                       {"message": "hi", "doc_type": "UNSORTED"}))
    assert events[-1].event == "error" and events[-1].data["code"] == "LLM_001" and events[-1].data["message"]


async def test_rag_failure_is_a_rag_retrieval_error_event(asgi_server, tenant_async, settings):
    from apps.knowledge.services import document_upload

    await sync_to_async(document_upload)(project=tenant_async.project, path="a.md", content="# A\nalpha",
                                         mode="inline")
    settings.EMBEDDINGS_MODEL = "another-embedding-model"  # the stored vectors no longer compare
    body = stream_body(project_id=str(tenant_async.project.pk))
    events = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", body))
    assert events[-1].event == "error"
    assert events[-1].data["code"] == "RAG_RETRIEVAL_ERROR" and events[-1].data["retry"] is False
    # The legacy endpoint works in the default project: the workspace's oldest, this one.
    legacy = await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/generate",
                                       {"message": "hi", "doc_type": "ADR"}))
    assert legacy[-1].event == "error" and legacy[-1].data["code"] == "RAG_001"


BAD_STREAM_BODIES = [
    pytest.param("{not json", [("body", 1)], "json_invalid", id="malformed-json"),
    pytest.param("[1, 2]", [("body",)], "model_attributes_type", id="not-an-object"),
    pytest.param({"project_id": str(uuid.uuid4()), "message": "hi"}, [("body", "conversation_id")], "missing",
                 id="no-conversation"),
    pytest.param(stream_body(conversation_id="not-a-uuid"), [("body", "conversation_id")], "uuid_parsing",
                 id="bad-uuid"),
    pytest.param(stream_body(project_id=12), [("body", "project_id")], "uuid_parsing", id="uuid-wrong-type"),
    pytest.param(stream_body(message=42), [("body", "message")], "string_type", id="message-wrong-type"),
    pytest.param(stream_body(message="x" * 20_001), [("body", "message")], "string_too_long", id="oversize"),
    pytest.param(stream_body(message="   "), [("body", "message")], "string_too_short", id="blank-message"),
    pytest.param(stream_body(user_name="n" * 101), [("body", "user_name")], "string_too_long", id="long-name"),
    pytest.param(stream_body(doc_type="NOVEL"), [("body", "doc_type")], "enum", id="unknown-doc-type"),
    pytest.param(stream_body(history=[{"role": "wizard", "content": "x"}]), [("body", "history", 0, "role")],
                 "literal_error", id="unknown-role"),
    pytest.param(stream_body(history=[{"role": "user", "content": "x"}] * 101), [("body", "history")], "too_long",
                 id="too-much-history"),
    pytest.param(stream_body(history="earlier"), [("body", "history")], "list_type", id="history-wrong-type"),
    pytest.param(stream_body(project_context={"a.md": 3}), [("body", "project_context", "a.md")], "string_type",
                 id="context-value-type"),
    pytest.param(stream_body(metadata=["x"]), [("body", "metadata")], "dict_type", id="metadata-wrong-type"),
    pytest.param({"message": 1, "history": [{"role": "bot"}]},
                 [("body", "conversation_id"), ("body", "project_id"), ("body", "message"),
                  ("body", "history", 0, "role"), ("body", "history", 0, "content")], None, id="every-problem"),
]


@pytest.mark.parametrize(("body", "locs", "kind"), BAD_STREAM_BODIES)
async def test_stream_bad_input_is_422_in_fastapi_shape_before_anything(asgi_server, tenant_async, fake_openai,
                                                                         fast_engine, body, locs, kind):
    fast_engine.DEFAULT_MODEL = FAKE_MODEL
    projects = await Project.objects.acount()
    response = await post(asgi_server, tenant_async, "/api/v1/chat/stream", body)
    payload = await response.json()
    assert response.status == 422, payload
    assert [tuple(item["loc"]) for item in payload["detail"]] == locs
    assert all(item["msg"] for item in payload["detail"])
    if kind is not None:
        assert payload["detail"][0]["type"] == kind
    assert len(fake_openai.requests) == 0
    assert await Message.objects.acount() == 0 and await Project.objects.acount() == projects


@pytest.mark.parametrize(("body", "locs"), [
    ({"doc_type": "ADR"}, [("body", "message")]),
    ({"message": "hi"}, [("body", "doc_type")]),
    ({"message": "hi", "doc_type": "ADR", "chat_history": [{"role": "user", "content": 5}]},
     [("body", "chat_history", 0, "content")]),
    ({"message": "hi", "doc_type": "ADR", "project_context": "x"}, [("body", "project_context")]),
])
async def test_generate_bad_input_is_422(asgi_server, tenant_async, body, locs):
    chats = await Chat.objects.acount()
    response = await post(asgi_server, tenant_async, "/api/v1/chat/generate", body)
    payload = await response.json()
    assert response.status == 422 and [tuple(item["loc"]) for item in payload["detail"]] == locs
    assert await Message.objects.acount() == 0 and await Chat.objects.acount() == chats


@pytest.mark.parametrize("path", ["/api/v1/chat/stream", "/api/v1/chat/generate", "/api/v1/chat/message"])
async def test_missing_or_bad_api_key_is_403(asgi_server, tenant_async, path):
    url = f"{asgi_server.url}{path}"
    body = json.dumps(stream_body(doc_type="ADR"))
    for headers in ({"Content-Type": "application/json"}, {"X-API-Key": "bp_not-a-key"}):
        response = await asgi_server.session.post(url, data=body, headers=headers)
        payload = await response.json()
        assert response.status == 403 and isinstance(payload["detail"], str) and payload["detail"]
    assert await Message.objects.acount() == 0


async def test_deprecated_message_endpoint_is_400(asgi_server, tenant_async):
    response = await post(asgi_server, tenant_async, "/api/v1/chat/message", {"message": "hi"})
    payload = await response.json()
    assert response.status == 400 and "/api/v1/chat/stream" in payload["detail"]
    assert "deprecated" in payload["detail"]


async def test_another_workspaces_ids_reach_nothing_of_theirs(asgi_server, tenant_async):
    owner = tenant_async
    body = stream_body(project_id=str(owner.project.pk), message="Our secret roadmap: launch on Mars.")
    events = await read_sse(await post(asgi_server, owner, "/api/v1/chat/stream", body))
    owner_chat = events[-1].data["metadata"]["chat_id"]
    intruder = await sync_to_async(make_tenant)("intruder")

    # The owner's project id and conversation id, sent by another workspace: a project and a
    # chat of the intruder's own, exactly as for ids never seen before.
    foreign = await read_sse(await post(asgi_server, intruder, "/api/v1/chat/stream", {**body, "message": "hi"}))
    unseen = await read_sse(await post(asgi_server, intruder, "/api/v1/chat/stream", stream_body(message="hi")))
    meta, fresh = foreign[-1].data["metadata"], unseen[-1].data["metadata"]
    assert meta["project_id"] != str(owner.project.pk) and meta["chat_id"] != owner_chat
    assert set(meta) == set(fresh) and meta["status"] == fresh["status"] == "completed"
    project = await Project.objects.aget(pk=meta["project_id"])
    assert project.workspace_id == intruder.workspace.pk
    intruder_chat = await Chat.objects.aget(pk=meta["chat_id"])
    assert intruder_chat.project_id == project.pk
    history = [m.content async for m in Message.objects.filter(chat_id=meta["chat_id"])]
    assert not any("Mars" in text for text in history)
    assert await Message.objects.filter(chat_id=owner_chat).acount() == 2  # untouched


async def test_conversation_of_another_project_is_409(asgi_server, tenant_async):
    body = stream_body()
    await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", body))
    moved = await post(asgi_server, tenant_async, "/api/v1/chat/stream", {**body, "project_id": str(uuid.uuid4())})
    assert moved.status == 409 and (await moved.json())["detail"]
    assert await Message.objects.acount() == 2


async def test_rate_limit_is_429_with_retry_after(asgi_server, tenant_async, fast_engine):
    fast_engine.RATE_LIMIT_PER_MINUTE = 1
    await read_sse(await post(asgi_server, tenant_async, "/api/v1/chat/stream", stream_body()))
    limited = await post(asgi_server, tenant_async, "/api/v1/chat/generate", {"message": "hi", "doc_type": "ADR"})
    payload = await limited.json()
    assert limited.status == 429 and payload["code"] == "RATE_LIMITED" and payload["detail"]
    assert int(limited.headers["Retry-After"]) > 0
    assert await Chat.objects.filter(title="hi").acount() == 0  # the legacy call's chat was discarded
