"""``{messages, …}`` bodies of seeds 000 and 004 (``/api/chat``, ``/api/chat/stream``, ``/api/chat/reason``).

One parser for both seeds: a body may carry either seed's fields. Shape checks are pure;
the model is resolved before any write, so bad input never leaves a chat behind; then
the chat is found (or created) in the caller's workspace and the engine starts the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from apps.chats.models import Chat
from apps.core.auth import Principal
from apps.core.errors import ApplicationError, NotFound, ValidationFailed
from apps.core.selectors import parse_uuid
from apps.engine import api as engine
from apps.engine import validation as v
from apps.engine.api import RunHandle, RunRequest

PROVIDERS = ("openai", "anthropic", "openrouter", "offline")
MAX_SYSTEM_PROMPT = 20_000
# A client's own chat id (seed 000's "chat_xyz"): printable, no spaces, no slashes (it is a path segment).
CLIENT_CHAT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,99}$")


@dataclass(frozen=True)
class ChatTurn:
    text: str
    history: list[tuple[str, str]] | None
    model: str | None = None
    provider: str | None = None
    temperature: float | None = None
    max_tokens: Any = None
    system_prompt: str | None = None
    enable_dsl: bool | None = None
    chat_id: str | None = None  # seed 000: our chat's UUID or a client id
    session_id: str | None = None  # seed 004: our chat's UUID
    project: str | None = None  # seed 004: a project's UUID or slug
    client_message_id: str | None = None


def _optional_string(body: dict[str, Any], name: str, *, limit: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{name} must be a non-empty string.", field=name)
    if len(value) > limit:
        raise ValidationFailed(f"{name} must be at most {limit} characters.", field=name)
    return value.strip()


def _messages(value: Any) -> tuple[str, list[tuple[str, str]] | None]:
    """The last message is the turn (a user's); earlier ones replace the stored history."""
    if value is None:
        raise ValidationFailed("messages is required: a list of {role, content} ending with the user's turn.",
                               field="messages")
    if not isinstance(value, list) or not value:
        raise ValidationFailed("messages must be a non-empty list of {role, content}.", field="messages")
    *earlier, last = value
    where = f"messages[{len(value) - 1}]"
    if not isinstance(last, dict):
        raise ValidationFailed(f"{where} must be an object with role and content.", field=where)
    if last.get("role") != "user":
        raise ValidationFailed(f"{where}.role must be 'user': the last message is the turn to answer "
                               f"(got {last.get('role')!r}).", field=f"{where}.role")
    text = v.message_text(last.get("content"), field=f"{where}.content")
    history = v.history(earlier, field="messages") if earlier else None
    return text, history


def parse_chat_turn(data: Any) -> ChatTurn:
    """Validate a seed 000 / 004 body without the database.

    Raises:
        ValidationFailed: naming the field (``messages[2].role``, ``temperature`` …).
    """
    body = v.require_object(data)
    text, history = _messages(body.get("messages"))
    chat_id = _optional_string(body, "chatId", limit=100)
    if chat_id is not None and parse_uuid(chat_id) is None and not CLIENT_CHAT_ID.match(chat_id):
        raise ValidationFailed("chatId must be a chat's UUID or an id of your own (letters, digits, . _ : ~ -).",
                               field="chatId")
    session_id = _optional_string(body, "sessionId", limit=100)
    if chat_id is not None and session_id is not None:
        raise ValidationFailed("Send chatId or sessionId, not both.", field="sessionId")
    provider = _optional_string(body, "provider", limit=20)
    if provider is not None and provider.lower() not in PROVIDERS:
        raise ValidationFailed(f"provider must be one of {', '.join(PROVIDERS)}.", field="provider")
    system_prompt = body.get("systemPrompt")
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise ValidationFailed("systemPrompt must be a string.", field="systemPrompt")
    if system_prompt is not None and len(system_prompt) > MAX_SYSTEM_PROMPT:
        raise ValidationFailed(f"systemPrompt must be at most {MAX_SYSTEM_PROMPT} characters.", field="systemPrompt")
    max_tokens = body.get("maxTokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValidationFailed("maxTokens must be a positive integer.", field="maxTokens")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise ValidationFailed("stream must be true or false.", field="stream")
    return ChatTurn(
        text=text,
        history=history,
        model=_optional_string(body, "model", limit=100),
        provider=provider.lower() if provider else None,
        temperature=v.temperature(body.get("temperature")),
        max_tokens=max_tokens,
        system_prompt=system_prompt.strip() or None if system_prompt else None,
        enable_dsl=v.optional_bool(body.get("enableDSL"), field="enableDSL"),
        chat_id=chat_id,
        session_id=session_id,
        project=_optional_string(body, "projectId", limit=100),
        client_message_id=v.client_message_id(body.get("clientMessageId")),
    )


def turn_model(turn: ChatTurn) -> str | None:
    """The model's public name: ``model``, else ``provider``'s default; None leaves the choice to
    the engine (the chat's default model, else the service's).

    Raises:
        InvalidModel: an unknown model, or one ``provider`` does not serve.
        NoProvider: the provider has no key configured.
        ValidationFailed: maxTokens over the model's limit.
    """
    from apps.core.errors import InvalidModel
    from apps.providers.catalogue import PROVIDER_DEFAULTS
    from apps.providers.registry import OFFLINE, available_models, resolve_model

    name = turn.model
    if name is None and turn.provider is None:
        return None
    if name is None and turn.provider is not None:
        served = [m.name for m in available_models() if m.provider == turn.provider]
        defaults = dict(PROVIDER_DEFAULTS)
        name = OFFLINE if turn.provider == OFFLINE else defaults.get(turn.provider, "")
        if name not in served and served:
            name = served[0]  # e.g. an OpenAI-compatible server's own models (OPENAI_MODELS)
    info = resolve_model(name)
    # OpenRouter serves every vendor's models, so it may stand in for the named provider.
    if turn.provider is not None and info.provider not in (turn.provider, "openrouter"):
        raise InvalidModel(info.name, [m.name for m in available_models() if m.provider == turn.provider])
    v.max_tokens(turn.max_tokens, limit=info.max_output_tokens)
    return info.name


# --- the chat (sync; called through database_sync_to_async) ---------------------------------


def chat_by_reference(principal: Principal, reference: str, *, label: str = "Chat") -> Chat:
    """A chat of the caller's workspace by its UUID or (seed 000) a client id; never creates.

    Raises:
        NotFound: missing, malformed or another workspace's — alike.
    """
    from apps.chats.selectors import chat_get
    from apps.chats.services import chat_id_for_client_id

    workspace = principal.workspace
    chat_id: object = reference
    if parse_uuid(reference) is None:
        if not CLIENT_CHAT_ID.match(reference):
            raise NotFound(f"{label} not found.")
        chat_id = chat_id_for_client_id(workspace_id=workspace.pk, client_id=reference)
    try:
        return chat_get(workspace=workspace, chat_id=chat_id)
    except NotFound:
        raise NotFound(f"{label} not found.") from None


def chat_for_turn(principal: Principal, turn: ChatTurn) -> tuple[Chat, bool]:
    """The chat the turn goes to, and whether this call created it.

    ``sessionId`` / a UUID ``chatId`` must name a chat of the caller's workspace (and of
    ``projectId``'s project when both are sent); a client ``chatId`` is created on first use;
    without either, a new chat in ``projectId``'s project or the workspace's default project.

    Raises:
        NotFound: "Session not found." / "Chat not found." / "Project not found.".
    """
    from apps.chats.selectors import chat_for_client_id
    from apps.chats.services import chat_create, chat_get_or_create_for_client_id
    from apps.projects.selectors import project_get_by_id_or_slug
    from apps.projects.services import project_get_or_create_default

    workspace = principal.workspace
    project = project_get_by_id_or_slug(workspace=workspace, reference=turn.project) if turn.project else None
    title = " ".join(turn.text.split())[:80]
    reference = turn.session_id or turn.chat_id
    if reference is not None and (turn.session_id is not None or parse_uuid(reference) is not None):
        label = "Session" if turn.session_id is not None else "Chat"
        chat = chat_by_reference(principal, reference, label=label) if parse_uuid(reference) else None
        if chat is None or (project is not None and chat.project_id != project.pk):
            raise NotFound(f"{label} not found.")
        return chat, False
    if project is None:
        project = project_get_or_create_default(workspace=workspace)
    if reference is not None:  # a client's own id
        existing = chat_for_client_id(workspace=workspace, client_id=reference)
        if existing is not None:
            return existing, False
        return chat_get_or_create_for_client_id(project=project, client_id=reference, title=title), True
    return chat_create(project=project, title=title), True


def chat_discard(chat: Chat) -> None:
    """Remove a chat this request created when its run could not start (nothing is left behind)."""
    from apps.chats.models import Message
    from apps.chats.services import chat_delete

    if not Message.objects.filter(chat=chat).exists():
        try:
            chat_delete(chat=chat)
        except ApplicationError:  # the project's last chat stays (never one this request made)
            pass


async def start_turn(principal: Principal, turn: ChatTurn, *, reasoning: bool = False) -> tuple[RunHandle, Chat, bool]:
    """Resolve the model, find or create the chat, start the run.

    Returns:
        (the run's handle, the chat, whether the chat was created by this request).
    Raises:
        The ApplicationError family, before any provider call; a chat created here is removed again.
    """
    model = turn_model(turn)
    chat, created = await database_sync_to_async(chat_for_turn)(principal, turn)
    request = RunRequest(
        principal=principal,
        chat=chat,
        text=turn.text,
        model=model,
        temperature=turn.temperature,
        max_tokens=turn.max_tokens,
        client_message_id=turn.client_message_id,
        history=turn.history,
        system_prompt=turn.system_prompt,
        enable_dsl=turn.enable_dsl,
        reasoning=reasoning,
    )
    try:
        handle = await engine.start_run(request)
    except ApplicationError:
        if created:
            await database_sync_to_async(chat_discard)(chat)
        raise
    return handle, chat, created
