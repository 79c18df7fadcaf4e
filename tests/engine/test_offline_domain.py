"""The offline provider through the engine: the blog example of seed 000, streamed DSL updates."""
from __future__ import annotations

import pytest

from apps.domain.models import DomainModelVersion
from apps.engine import api as engine
from tests.engine.conftest import collect, default_chat, make_request

pytestmark = pytest.mark.django_db(transaction=True)


async def test_blog_request_streams_dsl_updates_and_a_follow_up_adds_a_version(tenant_async):
    chat = await default_chat(tenant_async)
    handle = await engine.start_run(await make_request(tenant_async, "I need a blog with posts, authors, and comments",
                                                       chat=chat))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["status"] == "completed", events[-1]
    assert "offline" in next(e for e in events if e["type"] == "assistant.message")["text"].lower()
    updates = [e for e in events if e["type"] == "dsl.update"]
    assert updates, [e["type"] for e in events]
    final = updates[-1]
    entities = final["domainModel"]["entities"]
    assert {"Post", "Comment"} <= set(entities)
    assert "User" in entities or "Author" in entities
    assert entities["Post"]["fields"]["id"]["type"] == "uuid"
    pairs = {(r["from"], r["to"]) for r in final["domainModel"]["relationships"]}
    assert any(a == "Comment" and b == "Post" for a, b in pairs) or any(a == "Post" and b == "Comment"
                                                                         for a, b in pairs)
    assert 0 <= final["readiness"] <= 100 and final["version"] == 1
    # previews never show half a name: every entity in every update has fields with known types
    for update in updates:
        for entity in update["domainModel"]["entities"].values():
            assert all(f["type"] for f in entity["fields"].values())
    assert [e for e in events if e["type"] == "tool.result"]
    assert await DomainModelVersion.objects.filter(chat=chat).acount() == 1

    follow = await engine.start_run(await make_request(tenant_async, "Posts can also have tags", chat=chat))
    events = await collect(await engine.subscribe(follow.run_id))
    last = [e for e in events if e["type"] == "dsl.update"][-1]
    assert last["version"] == 2 and "Tag" in last["domainModel"]["entities"]
    version = await DomainModelVersion.objects.aget(chat=chat, version=2)
    assert version.diff


async def test_enable_dsl_false_offers_no_domain_tool(tenant_async):
    handle = await engine.start_run(await make_request(tenant_async, "I need a shop with orders", enable_dsl=False))
    events = await collect(await engine.subscribe(handle.run_id))
    assert events[-1]["status"] == "completed"
    assert not [e for e in events if e["type"] in ("dsl.update", "tool.call")]


async def test_refused_domain_update_is_a_tool_error_and_the_panel_reverts(tenant_async, fake_openai):
    import json

    from tests.fakes.script import Script, ToolCallScript

    bad = {"entities": {"Post": {"fields": {"id": {"type": "uuid", "required": True},
                                            "title": {"type": "string", "required": True}}}},
           "relationships": [{"from": "Post", "to": "Autor", "type": "many-to-one"}]}
    fake_openai.enqueue(Script(tool_calls=[ToolCallScript(name="update_domain_model", arguments=json.dumps(bad),
                                                          id="c1", fragment_size=2)]))
    fake_openai.set_script(Script(text=["Sorry."]))
    handle = await engine.start_run(await make_request(tenant_async, "a blog", model="gpt-4o"))
    events = await collect(await engine.subscribe(handle.run_id))
    error = next(e for e in events if e["type"] == "tool.error")
    assert "Autor" in error["error"]
    after = [e for e in events if e["type"] == "dsl.update" and e["seq"] > error["seq"]]
    assert after and after[-1]["version"] == 0 and after[-1]["domainModel"]["entities"] == {}
    assert not await DomainModelVersion.objects.filter(chat_id=handle.chat_id).aexists()
    second = fake_openai.requests[1].body["messages"]
    assert second[-1]["role"] == "tool" and "Autor" in second[-1]["content"]
