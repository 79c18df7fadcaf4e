"""Sync persistence of runs: the only place the engine writes the database.

Called from async code through ``apps.engine.db.run_db``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.chats.models import Chat, Message, Run, RunEvent
from apps.engine import events as ev
from apps.engine.events import Event

if TYPE_CHECKING:
    from apps.core.limits import Quota

PendingEvent = tuple[int, str, dict[str, Any]]  # (seq, type, payload)


@dataclass(frozen=True)
class RunStart:
    run_id: str
    chat_id: str
    user_message_id: str
    assistant_message_id: str
    created: bool  # False when a repeated clientMessageId attached to an existing run
    status: str
    created_at: datetime | None = None  # the user message's; the stored history ends before it


_M, _R, _E, _C = (model._meta.db_table for model in (Message, Run, RunEvent, Chat))

_EXISTING_SQL = f"""
SELECT r.id, m.id, r.assistant_message_id, r.status
FROM {_M} m JOIN {_R} r ON r.user_message_id = m.id
WHERE m.chat_id = %s AND m.client_message_id = %s
ORDER BY r.started_at DESC LIMIT 1
"""


def existing_start(*, chat_id: Any, client_message_id: str) -> RunStart | None:
    """The run an earlier message with ``client_message_id`` started in the chat, if any."""
    with connection.cursor() as cursor:
        cursor.execute(_EXISTING_SQL, [chat_id, client_message_id])
        row = cursor.fetchone()
    return existing_from_row(chat_id, row) if row else None


def existing_from_row(chat_id: Any, row: tuple[Any, ...]) -> RunStart:
    """A RunStart from ``(run id, user message id, assistant message id, status)``."""
    return RunStart(
        run_id=str(row[0]),
        chat_id=str(chat_id),
        user_message_id=str(row[1]),
        assistant_message_id=str(row[2]),
        created=False,
        status=row[3],
    )


# The run's rows in one statement: each INSERT reads the one before it, so none happens
# unless the user message was inserted (and that, unless the quota was granted).
_BEGIN_SQL = f"""
WITH {{quota}}
user_message AS (
    INSERT INTO {_M} (id, chat_id, role, content, parts, status, model, provider, input_tokens, output_tokens,
                      cost, client_message_id, created_at, updated_at)
    SELECT %s, %s, '{Message.Role.USER}', %s, %s::jsonb, '{Message.Status.COMPLETE}', '', '', 0, 0, 0, %s, %s, %s
    FROM {{gate}}
    ON CONFLICT (chat_id, client_message_id) DO NOTHING
    RETURNING id
), assistant_message AS (
    INSERT INTO {_M} (id, chat_id, role, content, parts, status, model, provider, input_tokens, output_tokens,
                      cost, client_message_id, created_at, updated_at)
    SELECT %s, %s, '{Message.Role.ASSISTANT}', '', '{{{{}}}}'::jsonb, '{Message.Status.STREAMING}', %s, %s, 0, 0, 0,
           NULL, %s, %s
    FROM user_message
    RETURNING id
), run AS (
    INSERT INTO {_R} (id, chat_id, user_message_id, assistant_message_id, status, model, provider, error_code,
                      error_message, provider_request_id, worker_id, stop_requested, last_seq, input_tokens,
                      output_tokens, cost, heartbeat_at, started_at, finished_at)
    SELECT %s, %s, %s, %s, '{Run.Status.RUNNING}', %s, %s, '', '', '', %s, false, 1, 0, 0, 0, %s, %s, NULL
    FROM assistant_message
    RETURNING id
), started AS (
    INSERT INTO {_E} (run_id, seq, type, payload, created_at)
    SELECT id, 1, '{ev.RUN_STARTED}', %s::jsonb, %s FROM run
), chat AS (
    UPDATE {_C} SET updated_at = %s WHERE id = %s AND EXISTS (SELECT 1 FROM run)
)
SELECT {{result}} EXISTS (SELECT 1 FROM run)
"""


class _Refused(Exception):
    """Rolls the set-up transaction back: the clientMessageId was taken meanwhile."""


def run_begin(
    *,
    chat: Chat,
    text: str,
    parts: dict[str, Any],
    client_message_id: str | None,
    model: str,
    provider: str,
    worker_id: str,
    quota: Quota | None = None,
) -> RunStart:
    """Commit the user message, the (empty, streaming) assistant message, the run and seq 1.

    One statement; with ``quota``, the rate count and the credit reservation are taken in
    it too, in one transaction.

    Returns:
        The new run; or, when ``client_message_id`` repeated, the run it started
        (``created=False``) with nothing written.
    Raises:
        RateLimited, CreditExhausted: (with ``quota``) nothing is written.
    """
    from apps.core.limits import QUOTA_RESULT, quota_check, quota_ctes

    now = timezone.now() if quota is None else quota.now
    user_id, assistant_id, run_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    params: list[Any]
    if quota is None:
        ctes, params, gate, result = "", [], "(SELECT 1) AS go", ""
    else:
        ctes, params = quota_ctes(quota)
        ctes, gate, result = ctes + ",", "quota_credit", QUOTA_RESULT + ","
    started = {"userMessageId": str(user_id), "assistantMessageId": str(assistant_id), "model": model,
               "provider": provider}
    params += [
        user_id, chat.pk, text, json.dumps(parts), client_message_id or None, now, now,
        assistant_id, chat.pk, model, provider, now + timedelta(microseconds=1), now + timedelta(microseconds=1),
        run_id, chat.pk, user_id, assistant_id, model, provider, worker_id, now, now,
        json.dumps(started), now,
        now, chat.pk,
    ]
    sql = _BEGIN_SQL.format(quota=ctes, gate=gate, result=result)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            if quota is not None:
                quota_check(quota, row[0], row[1])
            if not row[-1]:
                raise _Refused
    except _Refused:
        # Two requests with the same clientMessageId raced: the other one won.
        existing = existing_start(chat_id=chat.pk, client_message_id=client_message_id or "")
        if existing is None:
            raise IntegrityError(f"message {client_message_id!r} of chat {chat.pk} exists without a run") from None
        return existing
    return RunStart(
        run_id=str(run_id),
        chat_id=str(chat.pk),
        user_message_id=str(user_id),
        assistant_message_id=str(assistant_id),
        created=True,
        status=Run.Status.RUNNING,
        created_at=now,
    )


_FLUSH_SQL = f"""
WITH ins AS (
    INSERT INTO {RunEvent._meta.db_table} (run_id, seq, type, payload, created_at)
    SELECT %s, x.seq, x.type, x.payload, now()
    FROM jsonb_to_recordset(%s::jsonb) AS x(seq int, type text, payload jsonb)
    ON CONFLICT (run_id, seq) DO NOTHING
), msg AS (
    UPDATE {Message._meta.db_table} SET content = %s, updated_at = now()
    WHERE id = %s AND %s::boolean
)
UPDATE {Run._meta.db_table} SET heartbeat_at = now(), last_seq = GREATEST(last_seq, %s)
WHERE id = %s AND status = 'running'
"""


def _events_json(events: list[PendingEvent]) -> str:
    return json.dumps([{"seq": s, "type": t, "payload": p} for s, t, p in events])


def run_flush(*, run_id: str, message_id: str, events: list[PendingEvent], content: str | None) -> None:
    """One statement: append events, save the partial text (if given), beat the heart."""
    last_seq = events[-1][0] if events else 0
    with connection.cursor() as cursor:
        cursor.execute(
            _FLUSH_SQL,
            [run_id, _events_json(events), content or "", message_id, content is not None, last_seq, run_id],
        )


@dataclass
class RunOutcome:
    run_status: str  # completed | stopped | error | interrupted
    message_status: str
    content: str
    parts: dict[str, Any]
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal("0")
    error_code: str = ""
    error_message: str = ""
    provider_request_id: str = ""


def run_finish(*, run_id: str, message_id: str, events: list[PendingEvent], outcome: RunOutcome) -> bool:
    """Write the last events (ending with the terminal one) and the final statuses.

    Returns False when the run had already been reaped (nothing is written then).
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != Run.Status.RUNNING:
            return False
        RunEvent.objects.bulk_create(
            [RunEvent(run_id=run_id, seq=s, type=t, payload=p) for s, t, p in events],
            ignore_conflicts=True,
        )
        Message.objects.filter(pk=message_id).update(
            content=outcome.content,
            parts=outcome.parts,
            status=outcome.message_status,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            cost=outcome.cost,
            updated_at=timezone.now(),
        )
        Run.objects.filter(pk=run_id).update(
            status=outcome.run_status,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            last_seq=max(run.last_seq, events[-1][0] if events else 0),
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
            cost=outcome.cost,
            error_code=outcome.error_code,
            error_message=outcome.error_message[:2000],
            provider_request_id=outcome.provider_request_id[:200],
        )
    return True


def events_after(*, run_id: str, after_seq: int, limit: int = 500) -> list[Event]:
    rows = (
        RunEvent.objects.filter(run_id=run_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", "type", "payload", "run__chat_id")[:limit]
    )
    return [
        ev.envelope(seq=seq, run_id=str(run_id), chat_id=str(chat_id), type=type_, payload=payload)
        for seq, type_, payload, chat_id in rows
    ]


def run_brief(*, run_id: str) -> tuple[str, str, int] | None:
    """(status, chat id, last persisted seq) of a run."""
    row = Run.objects.filter(pk=run_id).values_list("status", "chat_id", "last_seq").first()
    return (row[0], str(row[1]), row[2]) if row else None


def run_request_stop(*, run_id: str) -> bool:
    return Run.objects.filter(pk=run_id, status=Run.Status.RUNNING).update(stop_requested=True) == 1


def run_stop_requested(*, run_id: str) -> bool:
    return Run.objects.filter(pk=run_id, stop_requested=True).exists()


def run_heartbeat(*, run_id: str) -> bool:
    """Beat; returns whether a stop was requested through the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Run._meta.db_table} SET heartbeat_at = now() WHERE id = %s RETURNING stop_requested",
            [run_id],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def chat_running_run_id(*, chat_id: str) -> str | None:
    run_id = (
        Run.objects.filter(chat_id=chat_id, status=Run.Status.RUNNING)
        .order_by("-started_at")
        .values_list("id", flat=True)
        .first()
    )
    return str(run_id) if run_id else None


INTERRUPTED_MESSAGE = "The worker running this answer stopped; the partial answer was kept."


def runs_reap_stale(*, stale_after_s: float) -> list[str]:
    """Mark running runs without a recent heartbeat ``interrupted``.

    Each gets one terminal ``error`` event (``retry: true``); the partial text the
    last flush saved is kept. Safe to run from every worker at once.
    """
    reaped: list[str] = []
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    with transaction.atomic():
        runs = list(
            Run.objects.select_for_update(skip_locked=True).filter(status=Run.Status.RUNNING, heartbeat_at__lt=cutoff)[
                :100
            ]
        )
        for run in runs:
            last = RunEvent.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True).first() or 0
            RunEvent.objects.create(
                run=run,
                seq=last + 1,
                type=ev.ERROR,
                payload={"error": "interrupted", "message": INTERRUPTED_MESSAGE, "retry": True},
            )
            message_id = str(run.assistant_message_id)
            # The text flush is less frequent than the event flush: rebuild the partial
            # answer from the persisted deltas when they hold more.
            deltas = RunEvent.objects.filter(run=run, type=ev.MESSAGE_DELTA).order_by("seq")
            partial = "".join(d.get("delta", "") for d in deltas.values_list("payload", flat=True))
            message = Message.objects.filter(pk=message_id).first()
            fields: dict[str, Any] = {"status": Message.Status.INTERRUPTED}
            if message is not None and len(partial) > len(message.content):
                fields["content"] = partial
            Message.objects.filter(pk=message_id).update(**fields)
            Run.objects.filter(pk=run.pk).update(
                status=Run.Status.INTERRUPTED,
                finished_at=timezone.now(),
                last_seq=last + 1,
                error_code="interrupted",
                error_message=INTERRUPTED_MESSAGE,
            )
            reaped.append(str(run.pk))
    return reaped
