"""Sync persistence of runs: the only place the engine writes the database.

Called from async code through ``apps.engine.db.run_db``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.chats.models import Chat, Message, Run, RunEvent
from apps.engine import events as ev
from apps.engine.events import Event


@dataclass(frozen=True)
class RunStart:
    run_id: str
    chat_id: str
    user_message_id: str
    assistant_message_id: str
    created: bool  # False when a repeated clientMessageId attached to an existing run
    status: str


def _existing_start(chat: Chat, client_message_id: str) -> RunStart | None:
    user_message = Message.objects.filter(chat=chat, client_message_id=client_message_id).first()
    if user_message is None:
        return None
    run = Run.objects.filter(user_message=user_message).order_by("-started_at").first()
    if run is None:
        return None
    return RunStart(
        run_id=str(run.pk),
        chat_id=str(chat.pk),
        user_message_id=str(user_message.pk),
        assistant_message_id=str(run.assistant_message_id),
        created=False,
        status=run.status,
    )


def run_begin(
    *,
    chat: Chat,
    text: str,
    parts: dict[str, Any],
    client_message_id: str | None,
    model: str,
    provider: str,
    worker_id: str,
) -> RunStart:
    """Commit the user message, the (empty, streaming) assistant message, the run and seq 1.

    A repeated ``client_message_id`` returns the run it started (``created=False``)
    and writes nothing.
    """
    if client_message_id:
        existing = _existing_start(chat, client_message_id)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            now = timezone.now()
            user_message = Message.objects.create(
                chat=chat,
                role=Message.Role.USER,
                content=text,
                parts=parts,
                client_message_id=client_message_id or None,
                created_at=now,
            )
            assistant = Message.objects.create(
                chat=chat,
                role=Message.Role.ASSISTANT,
                status=Message.Status.STREAMING,
                model=model,
                provider=provider,
                created_at=now + timedelta(microseconds=1),
            )
            run = Run.objects.create(
                chat=chat,
                user_message=user_message,
                assistant_message=assistant,
                model=model,
                provider=provider,
                worker_id=worker_id,
                last_seq=1,
            )
            RunEvent.objects.create(
                run=run,
                seq=1,
                type=ev.RUN_STARTED,
                payload={
                    "userMessageId": str(user_message.pk),
                    "assistantMessageId": str(assistant.pk),
                    "model": model,
                    "provider": provider,
                },
            )
            Chat.objects.filter(pk=chat.pk).update(updated_at=now)
    except IntegrityError:
        # Two requests with the same clientMessageId raced: the other one won.
        existing = _existing_start(chat, client_message_id or "")
        if existing is None:
            raise
        return existing
    return RunStart(
        run_id=str(run.pk),
        chat_id=str(chat.pk),
        user_message_id=str(user_message.pk),
        assistant_message_id=str(assistant.pk),
        created=True,
        status=run.status,
    )


_FLUSH_SQL = f"""
WITH ins AS (
    INSERT INTO {RunEvent._meta.db_table} (run_id, seq, type, payload, created_at)
    SELECT %s, (x.e->>'seq')::int, x.e->>'type', x.e - 'seq' - 'runId' - 'chatId' - 'type', now()
    FROM jsonb_array_elements(%s::jsonb) AS x(e)
    ON CONFLICT (run_id, seq) DO NOTHING
), msg AS (
    UPDATE {Message._meta.db_table} SET content = %s, updated_at = now()
    WHERE id = %s AND %s::boolean
)
UPDATE {Run._meta.db_table} SET heartbeat_at = now(), last_seq = GREATEST(last_seq, %s)
WHERE id = %s AND status = 'running'
"""


def run_flush(*, run_id: str, message_id: str, events: list[Event], content: str | None) -> None:
    """One statement: append events (envelopes), save the partial text (if given), beat the heart."""
    last_seq = events[-1]["seq"] if events else 0
    with connection.cursor() as cursor:
        cursor.execute(
            _FLUSH_SQL,
            [run_id, json.dumps(events, separators=(",", ":")), content or "", message_id, content is not None,
             last_seq, run_id],
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


_FINISH_SQL = f"""
WITH run AS (
    UPDATE {Run._meta.db_table} SET status = %(run_status)s, finished_at = now(), heartbeat_at = now(),
        last_seq = GREATEST(last_seq, %(last_seq)s), input_tokens = %(input_tokens)s,
        output_tokens = %(output_tokens)s, cost = %(cost)s, error_code = %(error_code)s,
        error_message = %(error_message)s, provider_request_id = %(request_id)s
    WHERE id = %(run_id)s AND status = 'running'
    RETURNING id
), ins AS (
    INSERT INTO {RunEvent._meta.db_table} (run_id, seq, type, payload, created_at)
    SELECT %(run_id)s, (x.e->>'seq')::int, x.e->>'type', x.e - 'seq' - 'runId' - 'chatId' - 'type', now()
    FROM jsonb_array_elements(%(events)s::jsonb) AS x(e)
    WHERE EXISTS (SELECT 1 FROM run)
    ON CONFLICT (run_id, seq) DO NOTHING
), msg AS (
    UPDATE {Message._meta.db_table} SET content = %(content)s, parts = %(parts)s::jsonb, status = %(message_status)s,
        input_tokens = %(input_tokens)s, output_tokens = %(output_tokens)s, cost = %(cost)s, updated_at = now()
    WHERE id = %(message_id)s AND EXISTS (SELECT 1 FROM run)
)
SELECT count(*) FROM run
"""


def run_finish(*, run_id: str, message_id: str, events: list[Event], outcome: RunOutcome) -> bool:
    """One statement: the last events (ending with the terminal one) and the final statuses.

    Returns False when the run had already been reaped (nothing is written then).
    """
    with connection.cursor() as cursor:
        cursor.execute(_FINISH_SQL, {
            "run_id": run_id, "message_id": message_id, "run_status": outcome.run_status,
            "message_status": outcome.message_status, "last_seq": events[-1]["seq"] if events else 0,
            "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens, "cost": outcome.cost,
            "error_code": outcome.error_code, "error_message": outcome.error_message[:2000],
            "request_id": outcome.provider_request_id[:200], "content": outcome.content,
            "parts": json.dumps(outcome.parts, default=str), "events": json.dumps(events, separators=(",", ":")),
        })
        (finished,) = cursor.fetchone()
    return bool(finished)


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


def runs_reap_stale(*, stale_after_s: float) -> list[Event]:
    """Mark running runs without a recent heartbeat ``interrupted``.

    Each gets one terminal ``error`` event (``retry: true``); the partial text the
    last flush saved is kept. Safe to run from every worker at once.

    Returns:
        The terminal events written, one per reaped run.
    """
    reaped: list[Event] = []
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    with transaction.atomic():
        runs = list(
            Run.objects.select_for_update(skip_locked=True).filter(status=Run.Status.RUNNING, heartbeat_at__lt=cutoff)[
                :100
            ]
        )
        for run in runs:
            last = RunEvent.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True).first() or 0
            payload = {"error": "interrupted", "message": INTERRUPTED_MESSAGE, "retry": True}
            RunEvent.objects.create(run=run, seq=last + 1, type=ev.ERROR, payload=payload)
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
            reaped.append(ev.envelope(seq=last + 1, run_id=str(run.pk), chat_id=str(run.chat_id), type=ev.ERROR,
                                      payload=payload))
    return reaped
