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

# The run an earlier message with the same clientMessageId started (its newest).
_EXISTING_SELECT = f"""
    SELECT r.id AS run_id, m.id AS user_message_id, r.assistant_message_id, r.status
    FROM {_M} m JOIN {_R} r ON r.user_message_id = m.id
    WHERE m.chat_id = {{chat}} AND m.client_message_id = {{cmid}}
    ORDER BY r.started_at DESC LIMIT 1"""
_EXISTING_SQL = _EXISTING_SELECT.format(chat="%s", cmid="%s")


def existing_start(*, chat_id: Any, client_message_id: str) -> RunStart | None:
    """The run an earlier message with ``client_message_id`` started in the chat, if any."""
    with connection.cursor() as cursor:
        cursor.execute(_EXISTING_SQL, [chat_id, client_message_id])
        row = cursor.fetchone()
    return _existing(chat_id, row) if row else None


def _existing(chat_id: Any, row: tuple[Any, ...]) -> RunStart:
    run_id, user_message_id, assistant_message_id, status = row
    return RunStart(
        run_id=str(run_id),
        chat_id=str(chat_id),
        user_message_id=str(user_message_id),
        assistant_message_id=str(assistant_message_id),
        created=False,
        status=status,
    )


@dataclass
class ChatTarget:
    """The chat a run begins in, looked up by the statement that begins it.

    ``sql`` selects at most one row: ``chat_id`` first, then ``columns - 1`` more that the
    caller reads back from ``row`` afterwards.
    """

    sql: str
    params: dict[str, Any]
    columns: int = 1
    row: tuple[Any, ...] | None = None

    @classmethod
    def of(cls, chat: Chat) -> ChatTarget:
        return cls("SELECT %(target_chat)s::uuid AS chat_id", {"target_chat": chat.pk})


# One statement: the chat, the run a repeated clientMessageId started, the quota, the run's
# rows. Each INSERT reads the one before it, so none happens unless the user message was
# inserted — and that only for a found chat, a new clientMessageId and a granted quota.
_BEGIN_SQL = f"""
WITH target AS ({{target}}),
existing AS ({_EXISTING_SELECT.format(chat="(SELECT chat_id FROM target)", cmid="%(cmid)s")}
), fresh AS (
    SELECT chat_id FROM target WHERE NOT EXISTS (SELECT 1 FROM existing)
), {{quota}}
user_message AS (
    INSERT INTO {_M} (id, chat_id, role, content, parts, status, model, provider, input_tokens, output_tokens,
                      cost, client_message_id, created_at, updated_at)
    SELECT %(user_id)s, (SELECT chat_id FROM target), '{Message.Role.USER}', %(text)s, %(parts)s::jsonb,
           '{Message.Status.COMPLETE}', '', '', 0, 0, 0, %(cmid)s, %(now)s, %(now)s
    FROM {{granted}}
    ON CONFLICT (chat_id, client_message_id) DO NOTHING
    RETURNING chat_id
), assistant_message AS (
    INSERT INTO {_M} (id, chat_id, role, content, parts, status, model, provider, input_tokens, output_tokens,
                      cost, client_message_id, created_at, updated_at)
    SELECT %(assistant_id)s, chat_id, '{Message.Role.ASSISTANT}', '', '{{{{}}}}'::jsonb,
           '{Message.Status.STREAMING}', %(model)s, %(provider)s, 0, 0, 0, NULL, %(after)s, %(after)s
    FROM user_message
    RETURNING chat_id
), run AS (
    INSERT INTO {_R} (id, chat_id, user_message_id, assistant_message_id, status, model, provider, error_code,
                      error_message, provider_request_id, worker_id, stop_requested, last_seq, input_tokens,
                      output_tokens, cost, heartbeat_at, started_at, finished_at)
    SELECT %(run_id)s, chat_id, %(user_id)s, %(assistant_id)s, '{Run.Status.RUNNING}', %(model)s, %(provider)s,
           '', '', '', %(worker_id)s, false, 1, 0, 0, %(reserved)s, %(now)s, %(now)s, NULL
    FROM assistant_message
    RETURNING id, chat_id
), started AS (
    INSERT INTO {_E} (run_id, seq, type, payload, created_at)
    SELECT id, 1, '{ev.RUN_STARTED}', %(started)s::jsonb, %(now)s FROM run
), chat AS (
    UPDATE {_C} SET updated_at = %(now)s WHERE id = (SELECT chat_id FROM run)
)
SELECT target.*, existing.*, {{result}} EXISTS (SELECT 1 FROM run)
FROM (SELECT 1) AS one LEFT JOIN target ON true LEFT JOIN existing ON true
"""


def run_begin(
    *,
    chat: Chat | ChatTarget,
    text: str,
    parts: dict[str, Any],
    client_message_id: str | None,
    model: str,
    provider: str,
    worker_id: str,
    quota: Quota | None = None,
) -> RunStart:
    """Commit the user message, the (empty, streaming) assistant message, the run and seq 1.

    One statement (so one round trip and atomic): with a ``ChatTarget`` it also looks the
    chat up (its row is left in ``chat.row``), with ``quota`` it also takes the rate count
    and the credit reservation.

    Returns:
        The new run; or, when ``client_message_id`` repeated, the run it started
        (``created=False``) with nothing written.
    Raises:
        NotFound: ("Chat not found.") the target selected no chat; nothing is written.
        RateLimited, CreditExhausted: (with ``quota``) nothing is written.
    """
    from apps.core.errors import NotFound
    from apps.core.limits import QUOTA_RESULT, credit_settle, quota_check, quota_ctes

    target = chat if isinstance(chat, ChatTarget) else ChatTarget.of(chat)
    now = timezone.now() if quota is None else quota.now
    user_id, assistant_id, run_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    params: dict[str, Any] = {
        **target.params,
        "cmid": client_message_id or None,
        "user_id": user_id,
        "assistant_id": assistant_id,
        "run_id": run_id,
        "text": text,
        "parts": json.dumps(parts),
        "model": model,
        "provider": provider,
        "worker_id": worker_id,
        "now": now,
        # While it runs, a run's cost is the credit reserved for it (the reaper gives it back).
        "reserved": quota.amount if quota is not None else Decimal("0"),
        "after": now + timedelta(microseconds=1),
        "started": json.dumps({"userMessageId": str(user_id), "assistantMessageId": str(assistant_id),
                               "model": model, "provider": provider}),
    }
    if quota is None:
        ctes, granted, result = "", "fresh", ""
    else:
        ctes, quota_params = quota_ctes(quota, gate="fresh")
        params.update(quota_params)
        ctes, granted, result = ctes + ",", "quota_credit", QUOTA_RESULT + ","
    sql = _BEGIN_SQL.format(target=target.sql, quota=ctes, granted=granted, result=result)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    target.row = row[: target.columns]
    chat_id = target.row[0]
    if chat_id is None:
        raise NotFound("Chat not found.")
    existing = row[target.columns : target.columns + 4]
    if existing[0] is not None:
        return _existing(chat_id, existing)
    created = row[-1]
    if quota is not None:
        affordable, reserved, count = row[-4:-1]
        quota_check(quota, affordable=affordable, granted=reserved, count=count)
    if not created:
        # A request with the same clientMessageId committed meanwhile: attach to its run.
        # The quota was taken all the same: give the credit back (the request still counts).
        if quota is not None:
            credit_settle(workspace_id=quota.workspace_id, reserved=quota.amount, actual=Decimal("0"))
        attached = existing_start(chat_id=chat_id, client_message_id=client_message_id or "")
        if attached is None:
            raise IntegrityError(f"message {client_message_id!r} of chat {chat_id} exists without a run")
        return attached
    return RunStart(
        run_id=str(run_id),
        chat_id=str(chat_id),
        user_message_id=str(user_id),
        assistant_message_id=str(assistant_id),
        created=True,
        status=Run.Status.RUNNING,
        created_at=now,
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
    from apps.core.limits import credit_settle

    reaped: list[Event] = []
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    with transaction.atomic():
        runs = list(
            Run.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("chat__project")
            .filter(status=Run.Status.RUNNING, heartbeat_at__lt=cutoff)[:100]
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
            # The worker died holding the run's credit reservation: give it back. An answer
            # cut short by our own failure is not billed.
            credit_settle(workspace_id=run.chat.project.workspace_id, reserved=run.cost, actual=Decimal("0"))
            Run.objects.filter(pk=run.pk).update(
                status=Run.Status.INTERRUPTED,
                finished_at=timezone.now(),
                last_seq=last + 1,
                error_code="interrupted",
                error_message=INTERRUPTED_MESSAGE,
                cost=Decimal("0"),
            )
            reaped.append(ev.envelope(seq=last + 1, run_id=str(run.pk), chat_id=str(run.chat_id), type=ev.ERROR,
                                      payload=payload))
    return reaped
