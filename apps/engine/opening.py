"""Opening a run: everything between a request and its provider call that needs the database.

It all runs in one call on an engine DB thread (``run_open``), so a new turn costs one
thread hop and a handful of round trips: the chat lookup, the set-up transaction (one
statement), the prompt reads (one statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

from apps.chats.models import Chat
from apps.core.errors import NotFound
from apps.core.selectors import parse_uuid
from apps.engine import store
from apps.engine.prompting import PreparedPrompt, PromptInput, estimate_tokens, prepare_prompt
from apps.engine.validation import max_tokens as validate_max_tokens
from apps.projects.models import Project

if TYPE_CHECKING:
    from apps.engine.api import RunRequest


@dataclass(frozen=True)
class ChatRef:
    """A chat as a transport names it; the engine looks it up in the caller's workspace."""

    project_id: Any
    chat_id: Any = None  # None: the project's default chat


@dataclass
class OpenedRun:
    start: store.RunStart
    chat: Chat
    model_info: Any  # apps.providers.registry.ModelInfo
    provider: Any  # apps.providers.base.Provider
    max_tokens: int | None
    reserved: Decimal = Decimal("0")
    prompt_input: PromptInput | None = None  # set when the run was created
    prompt: PreparedPrompt | Exception | None = None  # the prompt, or why it could not be prepared


_CHAT_FIELDS = Chat._meta.concrete_fields
_PROJECT_FIELDS = Project._meta.concrete_fields
_CHAT_SQL = """
SELECT t.*{existing_columns} FROM (
    SELECT {columns} FROM {chats} c JOIN {projects} p ON p.id = c.project_id
    WHERE p.workspace_id = %(workspace)s AND p.id = %(project)s {chat_filter}
    ORDER BY c.is_default DESC, c.created_at LIMIT 1
) AS t {existing}
"""
# The run an earlier message with the same clientMessageId started (store.existing_from_row).
_EXISTING_JOIN = """LEFT JOIN LATERAL (
    SELECT r.id, m.id, r.assistant_message_id, r.status FROM {messages} m JOIN {runs} r ON r.user_message_id = m.id
    WHERE m.chat_id = t.c_id AND m.client_message_id = %(client_message_id)s
    ORDER BY r.started_at DESC LIMIT 1
) AS ex ON true"""
_chat_sql: dict[tuple[bool, bool], str] = {}


def _chat_query(by_id: bool, existing: bool) -> str:
    sql = _chat_sql.get((by_id, existing))
    if sql is None:
        from apps.chats.models import Message, Run

        columns = [f"c.{f.column} AS c_{f.column}" for f in _CHAT_FIELDS]
        columns += [f"p.{f.column} AS p_{f.column}" for f in _PROJECT_FIELDS]
        sql = _CHAT_SQL.format(
            columns=", ".join(columns),
            chats=Chat._meta.db_table,
            projects=Project._meta.db_table,
            chat_filter="AND c.id = %(chat)s" if by_id else "",
            existing_columns=", ex.*" if existing else "",
            existing=_EXISTING_JOIN.format(messages=Message._meta.db_table, runs=Run._meta.db_table)
            if existing
            else "",
        )
        _chat_sql[(by_id, existing)] = sql
    return sql


def chat_for_run(
    *, workspace_id: Any, ref: ChatRef, client_message_id: str | None
) -> tuple[Chat, store.RunStart | None]:
    """The chat (with its project) ``ref`` names in the workspace, and the run an earlier
    message with ``client_message_id`` started there, if any. One query.

    Raises:
        NotFound: "Project not found." / "Chat not found." — for a malformed id, a missing
            object and another workspace's object alike.
    """
    project_id = parse_uuid(ref.project_id)
    if project_id is None:
        raise NotFound("Project not found.")
    params: dict[str, Any] = {"workspace": workspace_id, "project": project_id, "client_message_id": client_message_id}
    if ref.chat_id is not None:
        params["chat"] = parse_uuid(ref.chat_id)
        if params["chat"] is None:
            raise NotFound("Chat not found.")
    with connection.cursor() as cursor:
        cursor.execute(_chat_query(ref.chat_id is not None, bool(client_message_id)), params)
        row = cursor.fetchone()
    if row is None:
        if ref.chat_id is None and not Project.objects.filter(workspace_id=workspace_id, pk=project_id).exists():
            raise NotFound("Project not found.")
        raise NotFound("Chat not found.")
    n_chat, n_project = len(_CHAT_FIELDS), len(_PROJECT_FIELDS)
    chat = Chat.from_db(connection.alias, [f.attname for f in _CHAT_FIELDS], row[:n_chat])
    chat.project = Project.from_db(
        connection.alias, [f.attname for f in _PROJECT_FIELDS], row[n_chat : n_chat + n_project]
    )
    existing = row[n_chat + n_project :]
    return chat, (store.existing_from_row(chat.pk, existing) if existing and existing[0] is not None else None)


def run_open(request: RunRequest, *, worker_id: str) -> OpenedRun:
    """Open the run ``request`` asks for (sync; one call on an engine DB thread).

    In order: the chat (scoped to the caller's workspace); the model, maxTokens and docType;
    a repeated clientMessageId returns the run it started; one transaction commits the rate
    count, the credit reservation and the run's rows; then the prompt is prepared — a
    failure there is returned (``prompt``), not raised, since the run exists and must end
    with an error event.

    Raises:
        NotFound, InvalidModel, NoProvider, ValidationFailed, RateLimited, CreditExhausted:
            before anything is written.
    """
    from apps.core.limits import quota
    from apps.knowledge.doc_types import get_doc_type
    from apps.providers.pricing import cost_for
    from apps.providers.registry import get_provider, resolve_model

    cmid = request.client_message_id or None
    if isinstance(request.chat, Chat):
        chat = request.chat
        existing = store.existing_start(chat_id=chat.pk, client_message_id=cmid) if cmid else None
    else:
        chat, existing = chat_for_run(
            workspace_id=request.principal.workspace.pk, ref=request.chat, client_message_id=cmid
        )
    model_info = resolve_model(request.model or chat.default_model or None)
    max_tokens = validate_max_tokens(request.max_tokens, limit=model_info.max_output_tokens)
    provider = get_provider(model_info)
    if existing is not None:
        return OpenedRun(existing, chat, model_info, provider, max_tokens)
    if request.doc_type:
        get_doc_type(request.doc_type)  # unknown → ValidationFailed before anything is written

    reserve = cost_for(model_info, estimate_tokens(request.text) + 4000, max_tokens or model_info.max_output_tokens)
    taken = quota(rate_key=request.principal.rate_key, workspace_id=request.principal.workspace.pk, amount=reserve)
    parts: dict[str, Any] = {}
    if request.attachments:
        parts["attachments"] = request.attachments
    if request.metadata:
        parts["metadata"] = request.metadata
    if request.doc_type:
        parts["docType"] = request.doc_type
    start = store.run_begin(
        chat=chat,
        text=request.text,
        parts=parts,
        client_message_id=cmid,
        model=model_info.name,
        provider=model_info.provider,
        worker_id=worker_id,
        quota=taken,
    )
    if not start.created:  # a concurrent request with the same clientMessageId won
        return OpenedRun(start, chat, model_info, provider, max_tokens)

    prompt_input = PromptInput(
        chat=chat,
        text=request.text,
        user_message_id=start.user_message_id,
        assistant_message_id=start.assistant_message_id,
        mode=request.mode,
        history=request.history,
        system_prompt=request.system_prompt,
        user_name=request.user_name,
        doc_type=request.doc_type,
        project_context=request.project_context,
        enable_dsl=request.enable_dsl,
        attachments=request.attachments,
        turn_started_at=start.created_at,
    )
    prompt: PreparedPrompt | Exception
    try:
        prompt = prepare_prompt(prompt_input)
    except Exception as exc:  # noqa: BLE001 — handed to execute_run, which ends the run with its error event
        prompt = exc
    return OpenedRun(start, chat, model_info, provider, max_tokens, taken.amount, prompt_input, prompt)
