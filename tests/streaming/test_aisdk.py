"""The Vercel AI SDK UI-message stream over real HTTP, read by the `ai` package itself in node."""
from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.chats.models import Chat, Message, Run
from apps.chats.services import chat_id_for_client_id
from apps.domain.models import DomainModelVersion
from apps.knowledge.services import document_upload
from tests.conftest import make_tenant
from tests.engine.conftest import FAKE_MODEL, text_script
from tests.fakes.script import Script, ToolCallScript
from tests.streaming.conftest import read_sse

pytestmark = pytest.mark.django_db(transaction=True)

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
API = "/api/ai-sdk/chat"
BLOG_ARGS = {
    "entities": {
        "Post": {"fields": {"id": {"type": "uuid", "required": True}, "title": {"type": "string"}}},
        "Author": {"fields": {"id": {"type": "uuid", "required": True}, "name": {"type": "string"}}},
    },
    "relationships": [{"from": "Post", "to": "Author", "type": "many-to-one"}],
    "phase": "proposing",
}
AUTH_DOC = "# Authentication\n\nBlueprint authenticates programs with API keys sent in the X-API-Key header.\n"


def headers(tenant: Any, **extra: str) -> dict[str, str]:
    return {"X-API-Key": tenant.raw_key, "Content-Type": "application/json", **extra}


def user_message(text: str, message_id: str | None = None) -> dict[str, Any]:
    return {"id": message_id or uuid.uuid4().hex[:16], "role": "user", "parts": [{"type": "text", "text": text}]}


def chat_body(text: str, *, chat_id: str | None = None, message_id: str | None = None,
              **extra: Any) -> dict[str, Any]:
    return {"id": chat_id or uuid.uuid4().hex[:16], "messages": [user_message(text, message_id)],
            "trigger": "submit-message", **extra}


async def node(script: str, payload: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    assert NODE, "node is required for the AI SDK tests"
    process = await asyncio.create_subprocess_exec(
        NODE, str(JS / script), json.dumps(payload),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def read_with_ai(live: Any, tenant: Any, body: Any = None, *, method: str = "POST", path: str = API,
                       **extra: str) -> dict[str, Any]:
    request: dict[str, Any] = {"url": live.url + path, "method": method, "headers": headers(tenant, **extra)}
    if body is not None:
        request["body"] = body
    return await node("aisdk_read.mjs", request)


def parts_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for p in message["parts"] if p["type"] == kind]


def domain_script() -> Script:
    return Script(reasoning=["Posts need ", "authors."], text=["A blog: ", "posts and authors. "],
                  tool_calls=[ToolCallScript(name="update_domain_model", arguments=json.dumps(BLOG_ARGS),
                                             id="call_blog", fragment_size=7)])


async def test_ai_package_reads_text_reasoning_tools_dsl_and_sources(asgi_server, tenant_async, fake_openai):
    await sync_to_async(document_upload)(project=tenant_async.project, path="docs/auth.md", content=AUTH_DOC,
                                         mode="inline")
    fake_openai.enqueue(domain_script())
    fake_openai.set_script(Script(text=["Saved ", "the model."]))
    body = chat_body("I need a blog with posts and authors; how are API keys stored?", model=FAKE_MODEL,
                     reasoning=True)
    result = await read_with_ai(asgi_server, tenant_async, body, **{"X-Project-Id": str(tenant_async.project.pk)})

    assert result["status"] == 200 and result["streamHeader"] == "v1", result
    assert result["invalid"] == [] and result["errors"] == []
    chunks = result["chunks"]
    assert chunks[0]["type"] == "start" and chunks[-1]["type"] == "finish"
    assert chunks[-1]["finishReason"] == "stop"
    message = result["message"]
    run = await Run.objects.select_related("chat").aget(pk=message["metadata"]["runId"])
    stored = await Message.objects.aget(pk=run.assistant_message_id)
    assert message["id"] == str(stored.pk) and message["role"] == "assistant"
    assert run.chat.project_id == tenant_async.project.pk
    assert run.chat.pk == chat_id_for_client_id(workspace_id=tenant_async.workspace.pk, client_id=body["id"])

    assert [p["text"] for p in parts_of(message, "reasoning")] == ["Posts need authors."]
    texts = [p["text"] for p in parts_of(message, "text")]
    assert texts == ["A blog: posts and authors. ", "Saved the model."]
    assert "".join(texts) == stored.content and all(p["state"] == "done" for p in parts_of(message, "text"))
    # The tool call, its result, and a second step for the model's answer after it.
    tool = parts_of(message, "tool-update_domain_model")
    assert len(tool) == 1 and tool[0]["toolCallId"] == "call_blog" and tool[0]["state"] == "output-available"
    assert tool[0]["input"] == BLOG_ARGS and tool[0]["output"]
    assert len(parts_of(message, "step-start")) == 2
    # Successive domain models replace one data part.
    dsl = parts_of(message, "data-dsl")
    assert len(dsl) == 1 and dsl[0]["id"] == "dsl"
    assert len([c for c in chunks if c["type"] == "data-dsl"]) >= 2
    version = await DomainModelVersion.objects.aget(chat_id=run.chat_id)
    assert dsl[0]["data"]["version"] == version.version
    assert set(dsl[0]["data"]["domainModel"]["entities"]) == {"Post", "Author"}
    sources = parts_of(message, "source-document")
    assert sources and sources[0]["title"] == "docs/auth.md" and sources[0]["mediaType"] == "text/markdown"
    assert message["metadata"]["usage"]["outputTokens"] > 0 and message["metadata"]["status"] == "completed"
    assert message["metadata"]["model"] == FAKE_MODEL


async def test_offline_blog_request_yields_tool_and_dsl_parts_in_the_default_project(asgi_server, tenant_async):
    body = chat_body("I need a blog with posts, authors, and comments")
    result = await read_with_ai(asgi_server, tenant_async, body)
    assert result["status"] == 200 and result["invalid"] == [] and result["errors"] == []
    message = result["message"]
    tool = parts_of(message, "tool-update_domain_model")
    assert tool and tool[0]["state"] == "output-available"
    entities = parts_of(message, "data-dsl")[0]["data"]["domainModel"]["entities"]
    assert {"Post", "Comment"} <= set(entities)
    assert "offline" in "".join(p["text"] for p in parts_of(message, "text")).lower()
    chat = await Chat.objects.select_related("project").aget(pk=message["metadata"]["chatId"])
    assert chat.project_id == tenant_async.project.pk  # the workspace's oldest project is its default
    assert chat.title == body["messages"][0]["parts"][0]["text"]


async def test_chat_class_sends_use_chats_body_keeps_history_and_regenerates(asgi_server, tenant_async,
                                                                              fake_openai):
    fake_openai.enqueue(Script(text=["Use ", "Postgres."]))
    fake_openai.enqueue(Script(text=["Use ", "Redis."]))
    fake_openai.set_script(Script(text=["Try ", "Memcached."]))
    chat_id = "chat-" + uuid.uuid4().hex[:8]
    result = await node("aisdk_chat.mjs", {
        "api": asgi_server.url + API, "headers": headers(tenant_async),
        "chatId": chat_id, "steps": [{"send": "Which database?"}, {"send": "And for caching?"},
                                     {"regenerate": True}],
    })
    assert result["status"] == "ready" and result["error"] is None, result
    first, second, regenerate = (r["body"] for r in result["requests"])
    assert first["id"] == chat_id and first["trigger"] == "submit-message"
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert regenerate["trigger"] == "regenerate-message" and len(regenerate["messages"]) == 3
    roles = [m["role"] for m in result["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]
    answers = ["".join(p["text"] for p in parts_of(m, "text")) for m in result["messages"][1::2]]
    assert answers == ["Use Postgres.", "Try Memcached."]  # the regenerated answer replaced "Use Redis."
    assert [f["isError"] for f in result["finishes"]] == [False, False, False]
    # The model saw the conversation useChat sent; regenerate was a new run, not a replay.
    sent = fake_openai.requests[1].body["messages"]
    assert [m["role"] for m in sent[-3:]] == ["user", "assistant", "user"]
    assert sent[-2]["content"] == "Use Postgres." and sent[-1]["content"] == "And for caching?"
    assert len(fake_openai.requests) == 3
    chat = await Chat.objects.aget(pk=chat_id_for_client_id(workspace_id=tenant_async.workspace.pk,
                                                            client_id=chat_id))
    assert await Run.objects.filter(chat=chat).acount() == 3
    ids = {m["id"] for m in result["messages"] if m["role"] == "assistant"}
    assert ids <= {str(pk) async for pk in Message.objects.filter(chat=chat).values_list("pk", flat=True)}


async def test_retried_post_attaches_to_the_same_run_and_an_edit_starts_a_new_one(asgi_server, tenant_async,
                                                                                   fake_openai):
    fake_openai.set_script(text_script(6))
    body = chat_body("Hello", model=FAKE_MODEL, message_id="msg-1")
    first = await read_with_ai(asgi_server, tenant_async, body)
    again = await read_with_ai(asgi_server, tenant_async, body)
    assert first["message"]["id"] == again["message"]["id"]
    assert first["message"]["parts"] == again["message"]["parts"]
    assert len(fake_openai.requests) == 1
    edited = {**body, "messages": [user_message("Hello again", "msg-1")]}
    third = await read_with_ai(asgi_server, tenant_async, edited)
    assert third["message"]["id"] != first["message"]["id"] and len(fake_openai.requests) == 2


async def test_resume_replays_the_running_run_and_is_204_without_one(asgi_server, tenant_async, fake_openai):
    # Long enough (about 4 s) for node to start and ask while the answer still runs.
    fake_openai.set_script(text_script(130, delay=0.03))
    body = chat_body("Hello", model=FAKE_MODEL)
    response = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(body),
                                              headers=headers(tenant_async))
    head = await read_sse(response, limit=4)
    assert head[0].data["type"] == "start"
    response.close()  # a reload: the run goes on without its connection
    # useChat's own resume: Chat.resumeStream() → GET {api}/{id}/stream, a replay from the start.
    resumed = await node("aisdk_chat.mjs", {
        "api": asgi_server.url + API, "headers": headers(tenant_async), "chatId": body["id"],
        "messages": body["messages"], "steps": [{"resume": True}],
    })
    assert resumed["requests"][0]["method"] == "GET"
    assert resumed["requests"][0]["url"].endswith(f"{API}/{body['id']}/stream")
    assert resumed["status"] == "ready" and resumed["error"] is None
    answer = resumed["messages"][-1]
    assert answer["id"] == head[0].data["messageId"]
    stored = await Message.objects.aget(pk=answer["id"])
    assert stored.status == "complete" and "".join(p["text"] for p in parts_of(answer, "text")) == stored.content
    assert stored.content == "".join(f"tok{i} " for i in range(130))

    done = await asgi_server.session.get(f"{asgi_server.url}{API}/{body['id']}/stream",
                                         headers=headers(tenant_async))
    assert done.status == 204
    unknown = await asgi_server.session.get(f"{asgi_server.url}{API}/never-used/stream",
                                            headers=headers(tenant_async))
    assert unknown.status == 204


async def test_another_workspace_cannot_resume_stop_or_pick_the_project(asgi_server, tenant_async, fake_openai):
    other = await sync_to_async(make_tenant)("intruder")
    fake_openai.set_script(text_script(40, delay=0.03))
    body = chat_body("Hello", model=FAKE_MODEL)
    response = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(body),
                                              headers=headers(tenant_async))
    head = await read_sse(response, limit=3)
    resume = await asgi_server.session.get(f"{asgi_server.url}{API}/{body['id']}/stream", headers=headers(other))
    assert resume.status == 204
    stop = await asgi_server.session.post(f"{asgi_server.url}{API}/{body['id']}/stop", headers=headers(other))
    assert stop.status == 404 and (await stop.json())["error"]["code"] == "not_found"
    rest = await read_sse(response)
    assert rest[-1].data == "[DONE]" and rest[-2].data["finishReason"] == "stop"
    assert (await Message.objects.aget(pk=head[0].data["messageId"])).status == "complete"
    picked = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(chat_body("Hi")),
                                            headers=headers(other, **{"X-Project-Id": str(tenant_async.project.pk)}))
    assert picked.status == 404 and (await picked.json())["error"]["message"] == "Project not found."
    assert not await Chat.objects.filter(project__workspace=other.workspace).exclude(is_default=True).aexists()


async def test_stop_ends_the_stream_with_abort_and_keeps_the_partial_answer(asgi_server, tenant_async,
                                                                             fake_openai):
    fake_openai.set_script(text_script(300, delay=0.02))
    body = chat_body("Hello", model=FAKE_MODEL)
    response = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(body),
                                              headers=headers(tenant_async))
    head = await read_sse(response, limit=5)
    stop = await asgi_server.session.post(f"{asgi_server.url}{API}/{body['id']}/stop",
                                          headers=headers(tenant_async))
    assert stop.status == 200 and (await stop.json())["stopped"] is True
    frames = head + await read_sse(response)
    types = [f.data["type"] if isinstance(f.data, dict) else f.data for f in frames]
    assert types[-4:] == ["finish-step", "abort", "finish", "[DONE]"] and types[-5] == "text-end"
    stored = await Message.objects.aget(pk=head[0].data["messageId"])
    streamed = "".join(f.data["delta"] for f in frames if isinstance(f.data, dict) and f.data["type"] == "text-delta")
    assert stored.status == "stopped" and stored.content == streamed and streamed


BAD_BODIES = [
    ("[1, 2]", "body"),
    ('{"messages": []}', "id"),
    ('{"id": "c1"}', "messages"),
    ('{"id": "c1", "messages": "hi"}', "messages"),
    ('{"id": "c1", "messages": [], "trigger": "submit-message"}', "messages"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "user", "parts": []}], "trigger": "resume"}', "trigger"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "tool", "parts": [{"type": "text", "text": "x"}]}]}',
     "messages[0].role"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "assistant", "parts": [{"type": "text", "text": "x"}]}]}',
     "messages[0].role"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "user", "parts": [{"type": "file", "url": "x"}]}]}',
     "messages[0].parts"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "user", "content": "old v4 shape"}]}', "messages[0].parts"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "user", "parts": [{"type": "text", "text": 5}]}]}',
     "messages[0].parts[0].text"),
    ('{"id": "c1", "messages": [{"id": "m", "role": "user", "parts": ["hi"]}]}', "messages[0].parts[0].type"),
    ('{"id": "c1", "messages": [7, {"id": "m", "role": "user", "parts": [{"type": "text", "text": "x"}]}]}',
     "messages[0]"),
    ('{"id": 5, "messages": [{"id": "m", "role": "user", "parts": [{"type": "text", "text": "x"}]}]}', "id"),
    ('{"id": "c1", "temperature": 3, "messages": [{"id": "m", "role": "user", '
     '"parts": [{"type": "text", "text": "x"}]}]}', "temperature"),
    ('{"id": "c1", "reasoning": "yes", "messages": [{"id": "m", "role": "user", '
     '"parts": [{"type": "text", "text": "x"}]}]}', "reasoning"),
    ("{not json", "body"),
]


@pytest.mark.parametrize(("raw", "field"), BAD_BODIES)
async def test_bad_input_is_a_400_naming_the_field_before_anything_is_stored(asgi_server, tenant_async,
                                                                             fake_openai, raw, field):
    chats_before = await Chat.objects.acount()
    response = await asgi_server.session.post(asgi_server.url + API, data=raw, headers=headers(tenant_async))
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["field"] == field and error["message"]
    assert await Chat.objects.acount() == chats_before and not await Message.objects.aexists()
    assert fake_openai.requests == []


async def test_oversize_text_history_limit_and_unknown_model_are_refused(asgi_server, tenant_async, fake_openai,
                                                                        settings):
    settings.CHAT_MAX_HISTORY_MESSAGES = 3
    too_long = chat_body("x" * 20_001)
    too_many = {"id": "c2", "messages": [user_message(f"m{i}") for i in range(5)]}
    bad_model = chat_body("Hello", model="no-such-model")
    for body, status, field in ((too_long, 400, "messages[0].parts"), (too_many, 400, "messages")):
        response = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(body),
                                                  headers=headers(tenant_async))
        assert response.status == status and (await response.json())["error"]["field"] == field
    response = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(bad_model),
                                              headers=headers(tenant_async))
    error = (await response.json())["error"]
    assert response.status == 400 and "availableModels" in error, error
    assert not await Chat.objects.exclude(is_default=True).aexists() and not await Message.objects.aexists()
    assert fake_openai.requests == []
    unauthenticated = await asgi_server.session.post(asgi_server.url + API, data=json.dumps(chat_body("Hi")))
    assert unauthenticated.status == 401


async def test_a_provider_fault_mid_answer_is_an_error_chunk_use_chat_reports(asgi_server, tenant_async,
                                                                            fake_openai):
    fake_openai.set_script(Script(text=["One ", "two ", "three "], error_after=2))
    body = chat_body("Hello", model=FAKE_MODEL)
    result = await read_with_ai(asgi_server, tenant_async, body)
    assert result["invalid"] == [] and len(result["errors"]) == 1
    assert [c["type"] for c in result["chunks"]][-3:] == ["finish-step", "error", "finish"]
    finish = result["chunks"][-1]
    assert finish["finishReason"] == "error" and finish["messageMetadata"]["error"]["retry"] in (True, False)
    stored = await Message.objects.aget(pk=result["message"]["id"])
    assert stored.status == "error" and result["message"]["parts"][-1]["text"] == stored.content == "One two "
    assert result["errors"][0] == (await Run.objects.aget(assistant_message=stored)).error_message


async def test_file_parts_become_attachments_of_the_stored_user_message(asgi_server, tenant_async, fake_openai):
    from tests.chats.image_files import data_url, png

    fake_openai.set_script(text_script(2))
    url = data_url(png(4, 3), "image/png")
    body = chat_body("What is in this diagram?", model=FAKE_MODEL)
    body["messages"][0]["parts"].append({"type": "file", "mediaType": "image/png", "url": url,
                                         "filename": "erd.png"})
    result = await read_with_ai(asgi_server, tenant_async, body)
    run = await Run.objects.aget(pk=result["message"]["metadata"]["runId"])
    stored = await Message.objects.aget(pk=run.user_message_id)
    assert stored.content == "What is in this diagram?"
    [part] = stored.parts["attachments"]
    assert (part["type"], part["mediaType"], part["name"], part["width"], part["height"]) == \
        ("image", "image/png", "erd.png", 4, 3)
    assert "base64" not in json.dumps(stored.parts)  # stored once, as an attachment row
    content = fake_openai.requests[0].body["messages"][-1]["content"]
    assert {"type": "image_url", "image_url": {"url": url}} in content


def test_idempotency_keys_and_history_of_parsed_requests() -> None:
    from apps.streaming.aisdk import parse_chat_request

    send = parse_chat_request(chat_body("Hello", chat_id="c", message_id="u1"))
    assert send.history is None and send.client_message_id == parse_chat_request(
        chat_body("Hello", chat_id="c", message_id="u1")).client_message_id
    assert send.client_message_id.startswith("u1:ai:")
    assert parse_chat_request(chat_body("Hello!", chat_id="c", message_id="u1")).client_message_id \
        != send.client_message_id
    regenerate = chat_body("Hello", chat_id="c", message_id="u1", trigger="regenerate-message")
    assert parse_chat_request(regenerate).client_message_id is None
    named = parse_chat_request({**regenerate, "messageId": "a1"}).client_message_id
    assert named not in (None, send.client_message_id)
    assert named == parse_chat_request({**regenerate, "messageId": "a1"}).client_message_id
    assert len(parse_chat_request(chat_body("Hi", message_id="u" * 200)).client_message_id) <= 100

    conversation = {"id": "c", "messages": [
        {"id": "s", "role": "system", "parts": [{"type": "text", "text": "Be brief."}]},
        user_message("Which database?"),
        {"id": "a", "role": "assistant", "parts": [{"type": "step-start"}, {"type": "reasoning", "text": "hm"},
                                                   {"type": "text", "text": "Postgres."}]},
        {"id": "t", "role": "assistant", "parts": [{"type": "tool-update_domain_model", "state": "output-available"}]},
        user_message("Why?"),
    ]}
    turn = parse_chat_request(conversation, project_ref="blog")
    assert turn.text == "Why?" and turn.project_ref == "blog"
    assert turn.history == [("system", "Be brief."), ("user", "Which database?"), ("assistant", "Postgres.")]
