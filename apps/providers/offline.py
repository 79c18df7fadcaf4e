"""The offline provider: deterministic, rule-based, no network, no model.

It is what runs with no provider key (and in tests and the demo). It answers through the
same event stream a real model produces:

* with the ``update_domain_model`` tool on offer, it reads the last user message for the
  person's own nouns and the relations their sentences state (``apps.domain.heuristics``,
  rules in docs/dsl.md) and calls the tool — streamed arguments in small fragments,
  ``Finish("tool_calls")``;
* after the tool result it says what it added and asks clarifying questions while the
  model's readiness is low (or reports the refusal honestly);
* with ``context["doc_type"]`` it writes that document (``apps.knowledge.offline_writer``);
* otherwise it answers in plain prose about the domain it recognises.

Text streams one word at a time, ``OFFLINE_TOKEN_DELAY_MS`` apart. Usage counts are
estimates (about four characters per token); pricing makes its cost 0.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings

from apps.chats.images import FORMAT_NAMES, human_size
from apps.providers.base import (
    ATTACHMENT_NOTE_PREFIX,
    ChatMessage,
    Finish,
    ImagePart,
    ProviderEvent,
    ProviderRequest,
    StreamMeta,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)

INTRO = ("*Blueprint offline assistant — rule-based, no AI model: I pick out the nouns and relations in "
         "what you write and sketch a domain model from them. Configure a provider key for a real model.*\n\n")
_TOKEN = re.compile(r"\S+\s*|\s+")
_FRAGMENT_SIZES = (3, 7, 5, 11, 4, 9)


@dataclass
class _Turn:
    text: str
    tool: tuple[str, str] | None = None  # (tool name, arguments JSON)


def _estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def _last(messages: list[ChatMessage], role: str) -> ChatMessage | None:
    return next((m for m in reversed(messages) if m.role == role), None)


def _model_of(context: dict[str, Any]) -> dict[str, Any]:
    payload = context.get("domain_model") or {}
    return payload.get("domainModel") or {"entities": {}, "relationships": []}


def images_note(images: tuple[ImagePart, ...]) -> str:
    """What the offline assistant honestly says about images it was sent: it cannot see them."""
    if not images:
        return ""
    described = "; ".join(
        f"{FORMAT_NAMES.get(image.media_type, image.media_type)}, {image.width}×{image.height} px, "
        f"{human_size(len(image.data))}" for image in images)
    count = "1 image" if len(images) == 1 else f"{len(images)} images"
    pronoun = "its" if len(images) == 1 else "their"
    return (f"I received {count}: {described} — as a rule-based assistant I cannot see {pronoun} contents. "
            "Describe what it shows in words, or configure a provider key for a model that reads images.\n\n")


def _without_attachment_notes(request: ProviderRequest) -> ProviderRequest:
    """The request with the engine's attachment lines taken out of the user turns: the domain
    heuristics read the user's own words, and "[Attached … 1 image …]" is not one of them."""
    def strip(message: ChatMessage) -> ChatMessage:
        if message.role != "user" or ATTACHMENT_NOTE_PREFIX not in message.content:
            return message
        lines = [line for line in message.content.split("\n")
                 if not (line.startswith(ATTACHMENT_NOTE_PREFIX) and line.endswith("]"))]
        return replace(message, content="\n".join(lines).rstrip())

    return replace(request, messages=[strip(message) for message in request.messages])


def _with_images_note(turn: _Turn, request: ProviderRequest) -> _Turn:
    """The note goes into the answer to a user turn (not after a tool result, nor into a document)."""
    last = request.messages[-1] if request.messages else None
    if last is None or last.role != "user" or (request.context or {}).get("doc_type"):
        return turn
    note = images_note(last.images)
    if not note:
        return turn
    if turn.text.startswith(INTRO):
        return _Turn(INTRO + note + turn.text[len(INTRO):], turn.tool)
    return _Turn(note + turn.text, turn.tool)


class OfflineProvider:
    name = "offline"

    def __init__(self, *, token_delay_ms: int | None = None) -> None:
        self._token_delay_ms = token_delay_ms

    async def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderEvent]:
        from apps.providers.offline_plans import plans_stream

        planned = plans_stream(request, token_delay_ms=self._token_delay_ms)  # plan mode, plan runs
        if planned is not None:
            async for item in planned:
                yield item
            return
        turn = _with_images_note(self._plan(_without_attachment_notes(request)), request)
        delay_ms = self._token_delay_ms
        if delay_ms is None:
            delay_ms = int(getattr(settings, "OFFLINE_TOKEN_DELAY_MS", 0))
        delay = max(0, delay_ms) / 1000
        digest = hashlib.sha1(json.dumps([m.content for m in request.messages]).encode()).hexdigest()[:12]
        yield StreamMeta(request_id=f"offline-{digest}")
        output = 0
        for token in _TOKEN.findall(turn.text):
            if delay:
                await asyncio.sleep(delay)
            output += 1
            yield TextDelta(token)
        if turn.tool is not None:
            name, arguments = turn.tool
            call_id = f"call_offline_{digest}_{len(request.messages)}"
            yield ToolCallStart(id=call_id, name=name)
            position, index = 0, 0
            while position < len(arguments):
                size = _FRAGMENT_SIZES[index % len(_FRAGMENT_SIZES)]
                if delay:
                    await asyncio.sleep(delay)
                yield ToolCallDelta(id=call_id, arguments_delta=arguments[position:position + size])
                position, index = position + size, index + 1
            yield ToolCallEnd(id=call_id)
            output += _estimate_tokens(arguments)
        prompt = request.system + "".join(m.content for m in request.messages)
        yield Usage(input_tokens=_estimate_tokens(prompt), output_tokens=output)
        yield Finish("tool_calls" if turn.tool is not None else "stop")

    # --- what to say ---------------------------------------------------------------

    def _plan(self, request: ProviderRequest) -> _Turn:
        context = request.context or {}
        intro = "" if _last(request.messages, "assistant") else INTRO
        if context.get("doc_type"):
            return _Turn(self._document(request))
        last = request.messages[-1] if request.messages else None
        if last is not None and last.role == "tool":
            return _Turn(self._after_tool(request, last))
        user = _last(request.messages, "user")
        text = user.content if user else ""
        from apps.domain.tools import UPDATE_DOMAIN_MODEL

        if any(tool.name == UPDATE_DOMAIN_MODEL for tool in request.tools):
            from apps.domain.heuristics import extract_update

            extraction = extract_update(text, _model_of(context))
            if not extraction.empty:
                lead = self._lead_in(extraction.new_entities, extraction.notes)
                arguments = {**extraction.update, "confidence": self._confidence(context, extraction)}
                return _Turn(intro + lead, (UPDATE_DOMAIN_MODEL, json.dumps(arguments)))
        return _Turn(intro + self._prose(text, context))

    @staticmethod
    def _confidence(context: dict[str, Any], extraction: Any) -> float:
        payload = context.get("domain_model") or {}
        if payload.get("version"):
            return round(min(0.9, float(payload.get("confidence") or 0.5) + 0.1), 2)
        # nouns the lexicon recognises come with meaningful fields: a little more confidence
        return round(min(0.7, 0.4 + 0.05 * extraction.recognised), 2)

    @staticmethod
    def _lead_in(new_entities: list[str], notes: list[str]) -> str:
        if notes and not new_entities:
            return "Updating the domain model: " + "; ".join(notes) + ".\n\n"
        if new_entities:
            return "Let me sketch that as a domain model: " + ", ".join(new_entities) + ".\n\n"
        return "Let me add that to the domain model.\n\n"

    def _after_tool(self, request: ProviderRequest, result: ChatMessage) -> str:
        from apps.domain.narration import clarifying_questions, describe_changes, readiness_sentence
        from apps.domain.readiness import READY_READINESS

        try:
            outcome = json.loads(result.content)
        except (TypeError, ValueError):
            outcome = {}
        if isinstance(outcome, dict) and outcome.get("error"):
            return (f"The domain model update was refused: {outcome['error']}. Nothing was changed. "
                    "Could you rephrase what you want to add or change?")
        call = next((c for m in reversed(request.messages) if m.role == "assistant" for c in m.tool_calls
                     if c.id == result.tool_call_id), None)
        arguments: dict[str, Any] = {}
        if call is not None:
            try:
                arguments = json.loads(call.arguments)
            except ValueError:
                arguments = {}
        payload = (request.context or {}).get("domain_model") or {}
        model = payload.get("domainModel") or {"entities": {}, "relationships": []}
        lines = describe_changes(arguments, model)
        parts = ["I've updated the domain model:\n" + "\n".join(f"- {line}" for line in lines) + "\n"]
        if payload:
            parts.append(readiness_sentence(payload))
        questions = clarifying_questions(model)
        still_open = int(payload.get("readiness", 0)) < READY_READINESS or payload.get("phase") in (
            None, "clarifying", "proposing")
        if questions and still_open:
            parts.append("A few questions to sharpen it:\n" + "\n".join(f"- {q}" for q in questions))
        return "\n\n".join(p for p in parts if p)

    def _prose(self, text: str, context: dict[str, Any]) -> str:
        from apps.domain.heuristics import extract_update
        from apps.domain.merge import merge_update, validate_update
        from apps.domain.narration import clarifying_questions, describe_entity, describe_relationship

        current = _model_of(context)
        extraction = extract_update(text, current)
        try:
            model = merge_update(current, validate_update(extraction.update))
        except Exception:  # noqa: BLE001 - prose never fails on a bad guess
            model = current
        parts: list[str] = []
        if model["entities"]:
            parts.append("Here is how I read your system's domain:\n" + "\n".join(
                f"- {describe_entity(name, entity)}" for name, entity in model["entities"].items()))
            if model["relationships"]:
                parts.append("Relationships:\n" + "\n".join(
                    f"- {describe_relationship(rel)}" for rel in model["relationships"]))
        else:
            parts.append("I couldn't find the things your system has to keep track of in that message yet.")
        questions = clarifying_questions(model)
        if questions:
            parts.append("To go further:\n" + "\n".join(f"- {q}" for q in questions))
        return "\n\n".join(parts)

    @staticmethod
    def _document(request: ProviderRequest) -> str:
        from apps.knowledge.offline_writer import render_document

        context = request.context
        user = _last(request.messages, "user")
        return render_document(
            doc_type=str(context["doc_type"]),
            template=str(context.get("template") or ""),
            domain_model=context.get("domain_model"),
            documents=dict(context.get("documents") or {}),
            request_text=user.content if user else "",
            project_name=str(context.get("project_name") or ""),
        )
