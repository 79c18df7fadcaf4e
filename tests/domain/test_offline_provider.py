"""The offline provider: honest, deterministic, and extracting through the real tool path."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from apps.domain.selectors import domain_model_current
from apps.domain.services import domain_model_apply_update
from apps.domain.streaming import DomainArgumentStream
from apps.domain.tools import UPDATE_DOMAIN_MODEL_TOOL
from apps.providers.base import ChatMessage, ProviderRequest, ToolCall
from apps.providers.offline import OfflineProvider
from tests.domain.test_heuristics import DOMAINS
from tests.factories import ChatFactory


def run(request: ProviderRequest, provider: OfflineProvider | None = None) -> list[Any]:
    async def collect() -> list[Any]:
        return [event async for event in (provider or OfflineProvider()).stream(request)]
    return asyncio.run(collect())


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in events if e.kind == "text")


def arguments_of(events: list[Any]) -> str:
    return "".join(e.arguments_delta for e in events if e.kind == "tool_delta")


def ask(text: str, history: list[ChatMessage] | None = None, context: dict[str, Any] | None = None,
        tools: bool = True) -> ProviderRequest:
    messages = [*(history or []), ChatMessage(role="user", content=text)]
    return ProviderRequest(model="offline", messages=messages, tools=[UPDATE_DOMAIN_MODEL_TOOL] if tools else [],
                           context=context or {})


def test_it_says_what_it_is_and_calls_the_tool_like_a_model() -> None:
    events = run(ask("I need a blog with posts, authors, and comments"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "meta" and kinds[-2:] == ["usage", "finish"]
    assert events[-1].reason == "tool_calls"
    assert "offline" in text_of(events) and "no AI model" in text_of(events)
    starts = [e for e in events if e.kind == "tool_start"]
    assert len(starts) == 1 and starts[0].name == "update_domain_model"
    deltas = [e for e in events if e.kind == "tool_delta"]
    assert len(deltas) > 20 and max(len(d.arguments_delta) for d in deltas) <= 11
    assert kinds.index("tool_start") < kinds.index("tool_delta") < kinds.index("tool_end")
    usage = events[-2]
    assert usage.input_tokens > 0 and usage.output_tokens > len(deltas) // 4
    assert run(ask("I need a blog with posts, authors, and comments")) == events  # deterministic


def test_streamed_arguments_parse_incrementally_into_previews() -> None:
    parser = DomainArgumentStream(None)
    previews = []
    for event in run(ask("An online shop with products, customers, orders and invoices")):
        if event.kind == "tool_delta":
            previews += parser.feed(event.arguments_delta)
    assert previews and set(previews[-1]["domainModel"]["entities"]) == {
        "Product", "Customer", "Order", "Invoice"}
    assert parser.rejected == []


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "entities"), [pytest.param(t, e, id=n) for n, t, e, _ in DOMAINS])
def test_tool_arguments_validate_and_apply(text: str, entities: set[str]) -> None:
    events = run(ask(text))
    arguments = json.loads(arguments_of(events))
    applied = domain_model_apply_update(chat=ChatFactory(), arguments=arguments)
    assert applied.version == 1
    assert set(applied.payload["domainModel"]["entities"]) == entities
    assert applied.payload["phase"] == "proposing"
    assert 0.4 <= applied.payload["confidence"] <= 0.7


@pytest.mark.django_db
def test_a_conversation_proposes_explains_and_refines() -> None:
    chat = ChatFactory()
    first = run(ask("I need a blog with posts, authors, and comments"))
    call_id = next(e.id for e in first if e.kind == "tool_start")
    applied = domain_model_apply_update(chat=chat, arguments=json.loads(arguments_of(first)))
    history = [ChatMessage(role="user", content="I need a blog with posts, authors, and comments"),
               ChatMessage(role="assistant", content=text_of(first),
                           tool_calls=[ToolCall(id=call_id, name="update_domain_model",
                                                arguments=arguments_of(first))]),
               ChatMessage(role="tool", tool_call_id=call_id, name="update_domain_model",
                           content=json.dumps({"version": applied.version}))]
    after = run(ProviderRequest(model="offline", messages=history, tools=[UPDATE_DOMAIN_MODEL_TOOL],
                                context={"domain_model": domain_model_current(chat=chat)}))
    prose = text_of(after)
    assert after[-1].reason == "stop"
    assert "**Post**" in prose and "each Comment belongs to a Post" in prose
    assert "version 1" in prose and "?" in prose  # clarifying questions while still proposing
    assert "offline assistant" not in prose  # the introduction is said once
    history += [ChatMessage(role="assistant", content=prose)]
    follow = run(ask("posts can also have tags", history, {"domain_model": domain_model_current(chat=chat)}))
    second = domain_model_apply_update(chat=chat, arguments=json.loads(arguments_of(follow)))
    assert second.version == 2 and second.diff["entities"]["added"] == ["Tag"]
    assert {"from": "Post", "to": "Tag", "type": "many-to-many"} in second.diff["relationships"]["added"]
    assert second.payload["phase"] in ("refining", "ready")
    assert second.payload["confidence"] > applied.payload["confidence"]


def test_a_refused_update_is_reported_honestly() -> None:
    history = [ChatMessage(role="user", content="blog"),
               ChatMessage(role="assistant", tool_calls=[ToolCall(id="c1", name="update_domain_model",
                                                                  arguments="{}")]),
               ChatMessage(role="tool", tool_call_id="c1", content=json.dumps({"error": "relationships[0].to: no"}))]
    prose = text_of(run(ProviderRequest(model="offline", messages=history, tools=[UPDATE_DOMAIN_MODEL_TOOL])))
    assert "refused" in prose and "relationships[0].to" in prose


def test_prose_without_the_tool_and_questions_without_nouns() -> None:
    events = run(ask("What about a hotel booking system?", tools=False))
    prose = text_of(events)
    assert events[-1].reason == "stop" and not any(e.kind == "tool_start" for e in events)
    assert "**Booking**" in prose and "each Booking belongs to a Hotel" in prose
    vague = text_of(run(ask("hello, can you help me?")))
    assert "What do you want to build" in vague


def test_documents_are_written_by_the_offline_writer() -> None:
    from apps.knowledge.offline_writer import render_document

    context = {"doc_type": "DOMAIN_LANGUAGE", "template": "# Domain language\n\n## Terms\n",
               "documents": {}, "project_name": "Shop"}
    events = run(ask("Write the domain language document", context=context, tools=False))
    expected = render_document(doc_type="DOMAIN_LANGUAGE", template=context["template"], domain_model=None,
                               documents={}, request_text="Write the domain language document",
                               project_name="Shop")
    assert text_of(events) == expected and events[-1].reason == "stop"


def test_pacing_follows_the_token_delay() -> None:
    request = ask("hello, can you help me?", tools=False)
    tokens = sum(1 for e in run(request) if e.kind == "text")
    start = time.perf_counter()
    run(request, OfflineProvider(token_delay_ms=5))
    assert time.perf_counter() - start >= tokens * 0.005 * 0.9


async def test_closing_the_stream_stops_it() -> None:
    provider = OfflineProvider(token_delay_ms=20)
    stream = provider.stream(ask("I need a blog with posts, authors, and comments"))
    seen = [await stream.__anext__() for _ in range(3)]
    await stream.aclose()  # type: ignore[attr-defined]
    assert len(seen) == 3
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
