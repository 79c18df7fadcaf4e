"""Builds what the model sees for one run: system prompt, history, tools, context.

Retrieved documents and the project's files enter the prompt as quoted data,
never as instructions (see apps.knowledge.prompting).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

from apps.chats.attachments import AttachmentUpload
from apps.chats.models import Chat, Message
from apps.engine.attachments import attachments_line, earlier_attachments_line, image_parts
from apps.engine.tools import (
    SEARCH_DOCUMENTS,
    UPDATE_DOMAIN_MODEL,
    mode_info,
    tool_specs,
)
from apps.providers.base import ChatMessage, ToolSpec

BASE_PROMPT = """You are Blueprint, an AI software architect. People describe the system they want \
to build; you help them shape it: ask clarifying questions when something important is unknown, \
propose entities, fields and relationships, explain trade-offs, and keep answers concrete. \
Answer in Markdown. Never include images or links to outside addresses unless the user gave them."""

MODE_PROMPTS = {
    "chat": "Mode: chat — answer questions about the project, grounded in its documents.",
    "plan": "Mode: plan — you may only read. End with a numbered plan: for each step a title, "
    "a description, the files it touches and its risk (low, medium or high).",
    "build": "Mode: build — you may change the project's files and its domain model with your tools.",
}


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


@dataclass
class HistoryTurn:
    message: ChatMessage
    created_at: datetime | None = None


@dataclass
class PreparedPrompt:
    system: str
    history: list[HistoryTurn]
    user: ChatMessage
    tools: list[ToolSpec]
    allowed_tools: frozenset[str]
    mode: str
    context: dict[str, Any] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    doc_type: str | None = None
    summary: str = ""
    client_tools: frozenset[str] = frozenset()  # names of tools the client runs itself
    tool_choice: Any = None

    def messages(self) -> list[ChatMessage]:
        return [turn.message for turn in self.history] + [self.user]

    def system_text(self) -> str:
        if not self.summary:
            return self.system
        return (
            f"{self.system}\n\n## Summary of the earlier conversation\n"
            f"(written by Blueprint when the conversation grew long)\n{self.summary}"
        )

    def token_estimate(self) -> int:
        total = estimate_tokens(self.system_text()) + estimate_tokens(self.user.content)
        return total + sum(estimate_tokens(t.message.content) for t in self.history)


@dataclass
class PromptInput:
    chat: Chat
    text: str
    user_message_id: str
    assistant_message_id: str
    mode: str | None = None
    history: list[tuple[str, str]] | None = None  # client-supplied turns replace the stored ones
    system_prompt: str | None = None  # a client's own instructions (seed 004)
    user_name: str | None = None
    doc_type: str | None = None
    project_context: dict[str, str] | None = None
    enable_dsl: bool | None = None
    attachments: Sequence[AttachmentUpload] = ()  # decoded; images reach the model as images
    turn_started_at: datetime | None = None  # the user message's created_at: the stored history ends before it
    client_tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: Any = None


@dataclass
class PromptReads:
    """What the prompt needs from the database besides the chat, read in one round trip."""

    has_documents: bool
    domain_model: dict[str, Any] | None
    summary: str
    history: list[HistoryTurn]


_READS_SQL = """
WITH summary AS (
    SELECT content, NULLIF(parts ->> 'coversUntil', '') AS covers FROM {messages}
    WHERE chat_id = %(chat)s AND role = 'system' AND parts -> 'kind' = '"compaction"'::jsonb
      AND %(history)s
    ORDER BY created_at DESC LIMIT 1
), turns AS (
    SELECT role, content, created_at, id, parts -> 'attachments' AS attachments FROM {messages}
    WHERE chat_id = %(chat)s AND role IN ('user', 'assistant') AND content <> '' AND %(history)s
      AND created_at < COALESCE(%(before)s, (SELECT created_at FROM {messages} WHERE id = %(turn)s), 'infinity')
      AND created_at > COALESCE((SELECT covers FROM summary)::timestamptz, '-infinity')
    ORDER BY created_at DESC, id DESC LIMIT %(limit)s
)
SELECT EXISTS (SELECT 1 FROM {chunks} WHERE project_id = %(project)s),
       (SELECT content FROM summary),
       (SELECT array_agg(role ORDER BY created_at, id) FROM turns),
       (SELECT array_agg(content ORDER BY created_at, id) FROM turns),
       (SELECT array_agg(created_at ORDER BY created_at, id) FROM turns),
       (SELECT array_agg(attachments ORDER BY created_at, id) FROM turns),
       d.version, d.dsl, d.phase, d.readiness, d.confidence
FROM (SELECT 1) AS one LEFT JOIN LATERAL (
    SELECT version, dsl, phase, readiness, confidence FROM {versions}
    WHERE chat_id = %(chat)s AND %(domain)s ORDER BY version DESC LIMIT 1
) AS d ON true
"""
_reads_sql: str | None = None


def prompt_reads(data: PromptInput, *, domain: bool, history: bool) -> PromptReads:
    """Whether the project has documents; and, when asked for, the chat's current domain model
    and its stored history (with the latest compaction summary) before this turn.

    The history ends before the turn's user message: at ``data.turn_started_at``, else at the
    stored ``created_at`` of ``data.user_message_id``.
    """
    global _reads_sql
    from django.db import connection

    from apps.domain.models import DomainModelVersion
    from apps.domain.selectors import version_payload
    from apps.knowledge.models import Chunk

    if _reads_sql is None:
        _reads_sql = _READS_SQL.format(messages=Message._meta.db_table, chunks=Chunk._meta.db_table,
                                       versions=DomainModelVersion._meta.db_table)
    chat = data.chat
    params = {"chat": chat.pk, "project": chat.project_id, "history": history, "domain": domain,
              "before": data.turn_started_at, "turn": data.user_message_id or None,
              "limit": settings.CHAT_MAX_HISTORY_MESSAGES}
    with connection.cursor() as cursor:
        cursor.execute(_reads_sql, params)
        (has_documents, summary, roles, contents, times, attached, version, dsl, phase, readiness,
         confidence) = cursor.fetchone()
    turns = [
        HistoryTurn(ChatMessage(role=role, content=_with_earlier_attachments(content, parts)), created_at)
        for role, content, created_at, parts in zip(roles or (), contents or (), times or (), attached or (),
                                                    strict=True)
    ]
    current = None
    if version is not None:
        dsl = json.loads(dsl) if isinstance(dsl, str) else dsl
        current = version_payload(DomainModelVersion(version=version, dsl=dsl, phase=phase, readiness=readiness,
                                                     confidence=confidence))
    return PromptReads(bool(has_documents), current, summary or "", turns)


def prepare_prompt(data: PromptInput) -> PreparedPrompt:
    """Read everything the run needs (sync; runs on an engine DB thread).

    Raises:
        RetrievalError: the knowledge base could not be searched.
        ValidationFailed: an unknown docType.
    """
    chat = data.chat
    project = chat.project
    mode = mode_info(chat, data.mode)
    dsl_enabled = chat.dsl_enabled if data.enable_dsl is None else data.enable_dsl
    sections = [BASE_PROMPT, MODE_PROMPTS.get(mode.name, f"Mode: {mode.name}.")]
    if mode.system_prompt:
        sections.append(f"## Instructions of this mode\n{mode.system_prompt}")
    if data.system_prompt:
        sections.append(f"## The client's instructions\n{data.system_prompt}")
    if data.user_name:
        sections.append(f"The user's name is {json.dumps(data.user_name)}.")
    context: dict[str, Any] = {"project_name": project.name, "mode": mode.name}

    # The domain model is read when the tool is offered or the client enabled the DSL: both need dsl_enabled.
    reads = prompt_reads(data, domain=bool(dsl_enabled), history=data.history is None)
    has_documents = reads.has_documents
    offered = [t for t in mode.allowed_tools if t != UPDATE_DOMAIN_MODEL or dsl_enabled]
    if not has_documents:
        offered = [t for t in offered if t != SEARCH_DOCUMENTS]
    specs = tool_specs()
    tools = [specs[name] for name in offered] + list(data.client_tools)

    if UPDATE_DOMAIN_MODEL in offered or dsl_enabled:
        from apps.domain.prompting import domain_prompt_section

        current = reads.domain_model
        context["domain_model"] = current
        if UPDATE_DOMAIN_MODEL in offered:
            sections.append(domain_prompt_section(current))

    if data.doc_type and data.doc_type != "UNSORTED":
        sections.append(_doc_type_section(data, context))
    elif data.project_context:
        from apps.knowledge.prompting import format_documents
        from apps.knowledge.services import document_upsert_context

        for path, content in data.project_context.items():
            document_upsert_context(project=project, path=path, content=content)
        sections.append(format_documents(untrusted_documents(data.project_context)))

    sources: list[dict[str, Any]] = []
    if has_documents or data.project_context:
        from apps.knowledge.prompting import format_sources
        from apps.knowledge.retrieval import retrieve

        chunks = untrusted_chunks(
            retrieve(
                project=project,
                query=data.text,
                k=settings.RAG_TOP_K,
                doc_types=[data.doc_type] if data.doc_type and data.doc_type != "UNSORTED" else None,
            )
        )
        if chunks:
            sections.append(format_sources(chunks))
            sources = [
                {
                    "documentId": c.document_id,
                    "path": c.path,
                    "docType": c.doc_type,
                    "score": round(float(c.score), 4),
                    "snippet": c.snippet,
                }
                for c in chunks
            ]
            context["sources"] = [{**s, "text": c.text} for s, c in zip(sources, chunks, strict=True)]

    summary = ""
    if data.history is not None:
        history = [
            HistoryTurn(ChatMessage(role=role, content=content))  # type: ignore[arg-type]
            for role, content in data.history
            if role in ("user", "assistant")
        ]
        sections.extend(f"## Earlier instruction\n{content}" for role, content in data.history if role == "system")
    else:
        history, summary = reads.history, reads.summary
    user_text = data.text
    if data.attachments:
        user_text += f"\n\n{attachments_line(data.attachments)}"
    return PreparedPrompt(
        system="\n\n".join(sections),
        history=history,
        user=ChatMessage(role="user", content=user_text, images=image_parts(data.attachments)),
        tools=tools,
        allowed_tools=frozenset(mode.allowed_tools),
        mode=mode.name,
        context=context,
        sources=sources,
        doc_type=data.doc_type if data.doc_type != "UNSORTED" else None,
        summary=summary,
        client_tools=frozenset(tool.name for tool in data.client_tools),
        tool_choice=data.tool_choice,
    )


def _with_earlier_attachments(content: str, attachments: Any) -> str:
    if isinstance(attachments, str):  # jsonb inside an array comes back as its text
        attachments = json.loads(attachments)
    line = earlier_attachments_line(attachments)
    return f"{content}\n\n{line}" if line else content


def untrusted_chunks(chunks: list[Any]) -> list[Any]:
    """Retrieved text is data from outside: no images, links or URLs reach the model.

    The model cannot then be talked by a document into rendering an image or link to
    an outside address (a way to leak the conversation), nor echo one.
    """
    from dataclasses import replace

    from apps.knowledge.sanitize import strip_outside_references

    return [
        replace(c, text=strip_outside_references(c.text), snippet=strip_outside_references(c.snippet)) for c in chunks
    ]


def untrusted_documents(documents: dict[str, str]) -> dict[str, str]:
    from apps.knowledge.sanitize import strip_outside_references

    return {path: strip_outside_references(content) for path, content in documents.items()}


def _doc_type_section(data: PromptInput, context: dict[str, Any]) -> str:
    from apps.knowledge.doc_types import get_doc_type
    from apps.knowledge.prompting import format_documents
    from apps.knowledge.services import document_upsert_context, documents_for_prompt

    doc_type = get_doc_type(data.doc_type or "")
    project = data.chat.project
    for path, content in (data.project_context or {}).items():
        document_upsert_context(project=project, path=path, content=content)
    documents = untrusted_documents(documents_for_prompt(project=project))
    context.update(
        {
            "doc_type": doc_type.name,
            "template": doc_type.template,
            "example": doc_type.example,
            "documents": documents,
        }
    )
    return (
        f"## Task: write the {doc_type.name} document ({doc_type.title})\n{doc_type.description}\n"
        f"Follow this template:\n<template>\n{doc_type.template}\n</template>\n"
        f"A worked example of the format (not of this project's content):\n<example>\n{doc_type.example}\n"
        f"</example>\nStay consistent with the project's existing documents:\n{format_documents(documents)}"
    )


def compaction_split(prompt: PreparedPrompt, budget: int) -> tuple[list[HistoryTurn], list[HistoryTurn]]:
    """(older turns to summarise, recent turns to keep) when the prompt exceeds ``budget``."""
    if prompt.token_estimate() <= budget or len(prompt.history) < 2:
        return [], prompt.history
    keep_budget = budget // 2 - estimate_tokens(prompt.system) - estimate_tokens(prompt.user.content)
    kept: list[HistoryTurn] = []
    used = 0
    for turn in reversed(prompt.history):
        cost = estimate_tokens(turn.message.content)
        if used + cost > keep_budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    older = prompt.history[: len(prompt.history) - len(kept)]
    return older, kept


def extractive_summary(turns: list[HistoryTurn], previous: str, limit_chars: int = 4000) -> str:
    """A model-free summary: the first sentence or two of every turn, bounded."""
    lines = [previous] if previous else []
    for turn in turns:
        text = " ".join(turn.message.content.split())
        cut = text[:240] + ("…" if len(text) > 240 else "")
        lines.append(f"- {turn.message.role}: {cut}")
    summary = "\n".join(lines)
    return summary[-limit_chars:]
