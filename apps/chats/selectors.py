"""Reads of chats, runs and run events, always scoped to a workspace."""
from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from apps.chats.models import Chat, Message, Run, RunEvent
from apps.core.errors import ValidationFailed
from apps.core.models import Workspace
from apps.core.selectors import get_scoped
from apps.projects.models import Project


def chat_list(*, project: Project) -> QuerySet[Chat]:
    return Chat.objects.filter(project=project).order_by("-created_at", "-id")


def chat_get(*, workspace: Workspace, chat_id: object, project: Project | None = None) -> Chat:
    """Raises NotFound unless the chat belongs to ``workspace`` (and ``project`` if given)."""
    qs = Chat.objects.select_related("project").filter(project__workspace=workspace)
    if project is not None:
        qs = qs.filter(project=project)
    return get_scoped(qs, chat_id, label="Chat")


def chat_for_client_id(*, workspace: Workspace, client_id: str) -> Chat | None:
    """The chat a client names by an id of its own (useChat's ``id``, seed 000's ``chatId``), if it exists."""
    from apps.chats.services import chat_id_for_client_id

    chat_id = chat_id_for_client_id(workspace_id=workspace.pk, client_id=client_id)
    return Chat.objects.select_related("project").filter(pk=chat_id, project__workspace=workspace).first()


def run_get(*, workspace: Workspace, run_id: object) -> Run:
    qs = Run.objects.select_related("chat", "chat__project").filter(
        chat__project__workspace=workspace
    )
    return get_scoped(qs, run_id, label="Run")


# --- history: keyset pagination over (created_at, id) -------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_VERSION = "1"


@dataclass(frozen=True)
class HistoryPage:
    """One page of a chat's history."""

    messages: list[Message]  # oldest → newest
    next_cursor: str | None  # pass as ``before`` for the next (older) page; None at the start
    has_more: bool
    run_ids: dict[uuid.UUID, uuid.UUID]  # message id → the run it started or answered


def history_cursor_encode(message: Message) -> str:
    """An opaque cursor that points just before ``message``."""
    micros = (message.created_at - _EPOCH) // timedelta(microseconds=1)
    raw = f"{_CURSOR_VERSION}.{micros}.{message.id.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def history_cursor_decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Raises ValidationFailed (field ``before``) for anything this module did not produce."""
    try:
        padded = cursor.strip() + "=" * (-len(cursor.strip()) % 4)
        version, micros, hex_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split(".")
        if version != _CURSOR_VERSION or not micros.lstrip("-").isdigit():
            raise ValueError(cursor)
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=hex_id)
    except (ValueError, UnicodeError, OverflowError, binascii.Error):
        raise ValidationFailed("Invalid cursor.", field="before", code="invalid_cursor") from None


def message_history_page(*, chat: Chat, before: str | None, limit: int) -> HistoryPage:
    """The ``limit`` messages just older than the ``before`` cursor (the newest ones without it).

    One query: it walks the index ``message_chat_keyset`` backwards from a row-value position,
    so the cost does not grow with depth and rows inserted meanwhile never shift a page (no
    OFFSET); each message's run comes from two index probes on the run's message keys.

    Raises:
        ValidationFailed: a bad cursor (field ``before``) or limit (field ``limit``).
    """
    if not 1 <= limit <= settings.HISTORY_MAX_PAGE_SIZE:
        raise ValidationFailed(
            f"limit must be between 1 and {settings.HISTORY_MAX_PAGE_SIZE}.", field="limit"
        )
    params: list[object] = [chat.pk]
    position = ""
    if before:
        created_at, message_id = history_cursor_decode(before)
        # The row-value comparison is what lets Postgres seek straight into the index.
        position = "AND (m.created_at, m.id) < (%s, %s)"
        params += [created_at, message_id]
    messages, runs = (connection.ops.quote_name(model._meta.db_table) for model in (Message, Run))
    # Raw SQL: this is the hottest read of the service, and the ORM's query building
    # costs more than Postgres needs to answer it.
    sql = f"""
        SELECT m.*,
               COALESCE((SELECT r.id FROM {runs} r WHERE r.user_message_id = m.id LIMIT 1),
                        (SELECT r.id FROM {runs} r WHERE r.assistant_message_id = m.id LIMIT 1))
                   AS run_ref
          FROM {messages} m
         WHERE m.chat_id = %s {position}
         ORDER BY m.created_at DESC, m.id DESC
         LIMIT %s"""
    rows = list(Message.objects.raw(sql, [*params, limit + 1]))
    has_more = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()
    run_ids: dict[uuid.UUID, uuid.UUID] = {}
    for row in rows:
        run_ref = getattr(row, "run_ref", None)  # the annotation the query adds
        if run_ref is not None:
            run_ids[row.id] = run_ref
    return HistoryPage(
        messages=rows,
        next_cursor=history_cursor_encode(rows[0]) if has_more else None,
        has_more=has_more,
        run_ids=run_ids,
    )


# --- run events ---------------------------------------------------------------------------------

RUN_EVENTS_DEFAULT_PAGE_SIZE = 500
RUN_EVENTS_MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class RunEventPage:
    events: list[RunEvent]  # ordered by seq
    next_after: int  # pass as ``after`` to continue; unchanged when the page is empty
    has_more: bool


def run_event_page(*, run: Run, after: int = 0, limit: int = RUN_EVENTS_DEFAULT_PAGE_SIZE) -> RunEventPage:
    """The persisted events of ``run`` with ``seq > after``, in order (index ``uniq_run_seq``)."""
    if not 1 <= limit <= RUN_EVENTS_MAX_PAGE_SIZE:
        raise ValidationFailed(f"limit must be between 1 and {RUN_EVENTS_MAX_PAGE_SIZE}.", field="limit")
    if after < 0:
        raise ValidationFailed("after must be 0 or more.", field="after")
    rows = list(RunEvent.objects.filter(run=run, seq__gt=after).order_by("seq")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return RunEventPage(events=rows, next_after=rows[-1].seq if rows else after, has_more=has_more)
