"""Opening a run: everything between a request and its provider call that needs the database.

It all runs in one call on an engine DB thread (``run_open``), so a new turn costs one
thread hop and two round trips: one statement for the chat lookup, the rate count, the
credit reservation and the run's rows; one for the prompt's reads.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from apps.chats.attachments import attachment_part, attachments_create
from apps.chats.models import Chat
from apps.core.errors import NotFound
from apps.core.selectors import parse_uuid
from apps.engine import store
from apps.engine.attachments import image_tokens, turn_uploads
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
SELECT c.id AS chat_id, {columns} FROM {chats} c JOIN {projects} p ON p.id = c.project_id
WHERE p.workspace_id = %(target_workspace)s AND p.id = %(target_project)s {chat_filter}
ORDER BY c.is_default DESC, c.created_at LIMIT 1
"""
_chat_sql: dict[bool, str] = {}


def chat_target(*, workspace_id: Any, ref: ChatRef) -> store.ChatTarget:
    """The lookup of the chat ``ref`` names in the workspace, as one SELECT (its row: the
    chat id, the chat's columns, the project's).

    Raises:
        NotFound: a malformed id ("Project not found." / "Chat not found.").
    """
    project_id = parse_uuid(ref.project_id)
    if project_id is None:
        raise NotFound("Project not found.")
    params = {"target_workspace": workspace_id, "target_project": project_id}
    by_id = ref.chat_id is not None
    if by_id:
        params["target_chat"] = parse_uuid(ref.chat_id)
        if params["target_chat"] is None:
            raise NotFound("Chat not found.")
    sql = _chat_sql.get(by_id)
    if sql is None:
        columns = [f"c.{f.column} AS c_{f.column}" for f in _CHAT_FIELDS]
        columns += [f"p.{f.column} AS p_{f.column}" for f in _PROJECT_FIELDS]
        sql = _chat_sql[by_id] = _CHAT_SQL.format(
            columns=", ".join(columns),
            chats=Chat._meta.db_table,
            projects=Project._meta.db_table,
            chat_filter="AND c.id = %(target_chat)s" if by_id else "",
        )
    return store.ChatTarget(sql, params, columns=1 + len(_CHAT_FIELDS) + len(_PROJECT_FIELDS))


def _chat_from_row(row: tuple[Any, ...]) -> Chat:
    n_chat = len(_CHAT_FIELDS)
    chat = Chat.from_db(connection.alias, [f.attname for f in _CHAT_FIELDS], row[1 : 1 + n_chat])
    chat.project = Project.from_db(connection.alias, [f.attname for f in _PROJECT_FIELDS], row[1 + n_chat :])
    return chat


def _not_found(*, workspace_id: Any, ref: ChatRef) -> NotFound:
    """What a lookup that found no chat tells the caller, as the REST selectors do."""
    if ref.chat_id is None and not Project.objects.filter(workspace_id=workspace_id, pk=ref.project_id).exists():
        return NotFound("Project not found.")
    return NotFound("Chat not found.")


def chat_for_run(*, workspace_id: Any, ref: ChatRef) -> Chat:
    """The chat (with its project) ``ref`` names in the workspace. One query.

    Raises:
        NotFound: "Project not found." / "Chat not found." — for a malformed id, a missing
            object and another workspace's object alike.
    """
    target = chat_target(workspace_id=workspace_id, ref=ref)
    with connection.cursor() as cursor:
        cursor.execute(target.sql, target.params)
        row = cursor.fetchone()
    if row is None:
        raise _not_found(workspace_id=workspace_id, ref=ref)
    return _chat_from_row(row)


def mode_check(*, workspace_id: Any, project_id: Any, mode: str) -> None:
    """A per-message mode must be built in or a custom mode of the project (as ``chat_mode_validate``).

    Raises:
        ValidationFailed: (field ``mode``, code ``invalid_mode``). NotFound: no such project.
    """
    from apps.chats.models import BUILTIN_MODES
    from apps.core.errors import ValidationFailed
    from apps.projects.models import CustomMode

    if mode in BUILTIN_MODES:
        return
    project = parse_uuid(project_id)
    if project is not None and CustomMode.objects.filter(
            project_id=project, project__workspace_id=workspace_id, name=mode).exists():
        return
    if project is None or not Project.objects.filter(workspace_id=workspace_id, pk=project).exists():
        raise NotFound("Project not found.")
    raise ValidationFailed(f"Unknown mode '{mode}': use build, plan, chat or a custom mode of this project.",
                           field="mode", code="invalid_mode")


def run_open(request: RunRequest, *, worker_id: str) -> OpenedRun:
    """Open the run ``request`` asks for (sync; one call on an engine DB thread).

    In order: the model, maxTokens and docType (a chat that has no model of the request's
    is looked up first, for its default model); one statement looks the chat up in the
    caller's workspace, attaches a repeated clientMessageId to the run it started, takes
    the rate count and the credit reservation and commits the run's rows; then the prompt
    is prepared — a failure there is returned (``prompt``), not raised, since the run
    exists and must end with an error event.

    Raises:
        NotFound, InvalidModel, NoProvider, ValidationFailed, RateLimited, CreditExhausted:
            before anything is written.
    """
    from apps.core.limits import quota
    from apps.knowledge.doc_types import get_doc_type
    from apps.providers.pricing import cost_for
    from apps.providers.registry import get_provider, resolve_model

    cmid = request.client_message_id or None
    workspace_id = request.principal.workspace.pk
    chat: Chat | None = None
    target: Chat | store.ChatTarget
    if isinstance(request.chat, Chat):
        chat = target = request.chat
    elif not request.model:  # the chat's default model decides: look the chat up first
        chat = target = chat_for_run(workspace_id=workspace_id, ref=request.chat)
    else:  # looked up by the statement that begins the run
        target = chat_target(workspace_id=workspace_id, ref=request.chat)
    model_info = resolve_model(request.model or (chat.default_model if chat else None) or None)
    max_tokens = validate_max_tokens(request.max_tokens, limit=model_info.max_output_tokens)
    provider = get_provider(model_info)
    if request.doc_type:
        get_doc_type(request.doc_type)  # unknown → ValidationFailed before anything is written
    uploads = turn_uploads(request.attachments)  # a bad one → ValidationFailed before anything is written
    if request.mode is not None:
        mode_check(workspace_id=workspace_id, project_id=chat.project_id if chat else request.chat.project_id,
                   mode=request.mode)

    input_estimate = estimate_tokens(request.text) + image_tokens(uploads) + 4000
    reserve = cost_for(model_info, input_estimate, max_tokens or model_info.max_output_tokens)
    taken = quota(rate_key=request.principal.rate_key, workspace_id=workspace_id, amount=reserve)
    parts: dict[str, Any] = {}
    if uploads:  # metadata only: the bytes go to their own rows
        parts["attachments"] = [attachment_part(upload) for upload in uploads]
    if request.metadata:
        parts["metadata"] = request.metadata
    if request.doc_type:
        parts["docType"] = request.doc_type
    try:
        # With attachments, their rows commit together with the user message that names them.
        with transaction.atomic() if uploads else nullcontext():
            start = store.run_begin(
                chat=target,
                text=request.text,
                parts=parts,
                client_message_id=cmid,
                model=model_info.name,
                provider=model_info.provider,
                worker_id=worker_id,
                quota=taken,
            )
            if chat is None:
                assert isinstance(target, store.ChatTarget) and target.row is not None
                chat = _chat_from_row(target.row)
            if uploads and start.created:
                attachments_create(chat=chat, message_id=start.user_message_id, uploads=uploads)
    except NotFound:
        if isinstance(request.chat, ChatRef):
            raise _not_found(workspace_id=workspace_id, ref=request.chat) from None
        raise
    if not start.created:  # a repeated clientMessageId: attach to the run it started
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
        attachments=uploads,
        turn_started_at=start.created_at,
        client_tools=request.client_tools or [],
        tool_choice=request.tool_choice,
    )
    prompt: PreparedPrompt | Exception
    try:
        prompt = prepare_prompt(prompt_input)
    except Exception as exc:  # noqa: BLE001 — handed to execute_run, which ends the run with its error event
        prompt = exc
    return OpenedRun(start, chat, model_info, provider, max_tokens, taken.amount, prompt_input, prompt)
