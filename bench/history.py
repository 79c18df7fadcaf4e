#!/usr/bin/env python
"""Benchmark: seed 001 history pagination over one chat of 1,000,000 messages.

Loads the chat once (psycopg COPY) into a dedicated database on the same server
(``blueprint_bench`` by default; reused while it holds the right count), then times
``apps.chats.selectors.message_history_page`` — the history endpoint's query path — for
the newest page and for cursors deep in the history, and the whole endpoint for a few
of them. Prints a table, and as its last line one JSON object.

    .venv/bin/python bench/history.py [--quick] [--verbose] [--messages N] [--repeat R]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGE = 50
WORKSPACE = "bench"
CHAT_TITLE = "bench-history"
WORDS = ("order invoice customer product shipment warehouse payment refund account ledger "
         "entity relationship field schema migration endpoint cursor index page stream").split()


# --- database set-up -----------------------------------------------------------------------------


def _server_url(database: str) -> str:
    """A URL for ``database`` on the configured server (DATABASE_URL, else the embedded one)."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured:
        parts = urlsplit(configured)
        return urlunsplit(parts._replace(path=f"/{database}"))
    from config.embedded_db import ensure_running

    data = os.environ.get("EMBEDDED_PG_DATA", str(ROOT / "var" / "pgdata"))
    params = ensure_running(data)
    return (f"postgres://{params['user']}@/{database}"
            f"?host={quote(params['host'], safe='')}&port={params['port']}")


def _ensure_database(url: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    conninfo = _libpq_conninfo(url.replace(f"/{database}", "/postgres", 1))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            print(f"created database {database}")


def _libpq_conninfo(url: str) -> str:
    """libpq accepts ``postgres://user@/db?host=/socket&port=…`` as is."""
    return url.replace("postgres://", "postgresql://", 1)


def _setup_django(database: str) -> None:
    url = _server_url(database)
    _ensure_database(url, database)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_DEBUG"] = "false"  # no query log
    # Persistent connections, as a deployment configures them: otherwise each endpoint call
    # would time a new Postgres connection, not the request.
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data ----------------------------------------------------------------------------------------


def _copy(model: Any, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY ``rows`` into ``model``'s table; other NOT NULL columns get their Python default."""
    from django.db import connection

    fields = {f.attname: f for f in model._meta.concrete_fields}
    constants = {name: field.get_default() for name, field in fields.items()
                 if name not in columns and not field.null}
    names = columns + list(constants)
    constant_values = tuple(
        json.dumps(value) if fields[name].get_internal_type() == "JSONField" else value
        for name, value in constants.items()
    )
    connection.ensure_connection()
    raw = connection.connection
    count = 0
    statement = "COPY {} ({}) FROM STDIN".format(
        connection.ops.quote_name(model._meta.db_table), ", ".join(connection.ops.quote_name(n) for n in names)
    )
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row + constant_values)
            count += 1
    return count


def _message_rows(chat_id: uuid.UUID, count: int, ids: list[uuid.UUID]) -> Iterator[tuple[Any, ...]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rng = random.Random(7)
    for i in range(count):
        # Every 10th pair shares a timestamp, so the id tie-breaker is exercised at scale.
        created = start + timedelta(seconds=i - (1 if i % 20 == 1 else 0))
        user = i % 2 == 0
        text = " ".join(rng.choices(WORDS, k=rng.randint(8, 60)))
        yield (ids[i], chat_id, "user" if user else "assistant", text, "{}", "complete",
               "" if user else "offline", "" if user else "offline", 0 if user else 40, 0 if user else 120,
               "0" if user else "0.000160", created, created)


def _run_rows(chat_id: uuid.UUID, ids: list[uuid.UUID]) -> Iterator[tuple[Any, ...]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(0, len(ids) - 1, 2):
        started = start + timedelta(seconds=i)
        yield (uuid.uuid4(), chat_id, ids[i], ids[i + 1], "completed", "offline", "offline", 4,
               started, started, started + timedelta(seconds=1))


def _ensure_data(messages: int) -> tuple[Any, float | None]:
    """The bench chat with exactly ``messages`` messages (and one run per pair)."""
    from django.db import connection

    from apps.chats.models import Chat, Message, Run
    from apps.core.services import workspace_get_or_create
    from apps.projects.models import Project
    from apps.projects.services import project_create

    workspace = workspace_get_or_create(name=WORKSPACE)
    project = Project.objects.filter(workspace=workspace).first() or project_create(
        workspace=workspace, name="history benchmark")
    chat = Chat.objects.filter(project=project, title=CHAT_TITLE).first()
    if chat is not None and Message.objects.filter(chat=chat).count() == messages:
        return chat, None

    print(f"loading {messages:,} messages (COPY) …", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:  # a dedicated database: start from empty tables
        cursor.execute(f"TRUNCATE {Run._meta.db_table}, {Message._meta.db_table} CASCADE")
    Chat.objects.filter(project=project, title=CHAT_TITLE).delete()
    chat = Chat.objects.create(project=project, title=CHAT_TITLE, mode="chat")
    ids = [uuid.uuid4() for _ in range(messages)]
    _copy(Message, ["id", "chat_id", "role", "content", "parts", "status", "model", "provider",
                    "input_tokens", "output_tokens", "cost", "created_at", "updated_at"],
          _message_rows(chat.id, messages, ids))
    _copy(Run, ["id", "chat_id", "user_message_id", "assistant_message_id", "status", "model", "provider",
                "last_seq", "heartbeat_at", "started_at", "finished_at"], _run_rows(chat.id, ids))
    connection.ensure_connection()
    for table in (Message._meta.db_table, Run._meta.db_table):
        connection.connection.execute(f"VACUUM ANALYZE {table}")  # Django keeps autocommit on
    elapsed = time.perf_counter() - started
    print(f"loaded in {elapsed:.1f} s", flush=True)
    return chat, elapsed


# --- measuring -----------------------------------------------------------------------------------


def _cursor_at(chat: Any, depth: int) -> str | None:
    """The cursor whose page starts ``depth`` messages below the newest (setup only)."""
    from apps.chats.models import Message
    from apps.chats.selectors import history_cursor_encode

    if depth == 0:
        return None
    row = Message.objects.filter(chat=chat).order_by("-created_at", "-id")[depth - 1]
    return history_cursor_encode(row)


def _random_cursors(chat: Any, count: int) -> list[str]:
    from apps.chats.models import Message
    from apps.chats.selectors import history_cursor_encode

    sample = Message.objects.raw(
        f"SELECT * FROM {Message._meta.db_table} TABLESAMPLE SYSTEM (1) WHERE chat_id = %s", [chat.id]
    )
    rows = list(sample)
    random.Random(11).shuffle(rows)
    return [history_cursor_encode(row) for row in rows[:count]]


def _time(fn: Callable[[], Any], repeat: int) -> list[float]:
    for _ in range(min(20, repeat)):  # warm-up
        fn()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _explain(chat: Any, before: str | None, verbose: bool) -> bool:
    """EXPLAIN the page query exactly as the selector sends it; True if it walks the index."""
    from django.db import connection

    from apps.chats.selectors import message_history_page

    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        message_history_page(chat=chat, before=before, limit=PAGE)
    sql, params = captured[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    if verbose:
        print(plan)
    return "message_chat_keyset" in plan and "Sort" not in plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same data, fewer repetitions")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=None, help="timed calls per position")
    parser.add_argument("--database", default="blueprint_bench")
    parser.add_argument("--verbose", action="store_true", help="print the query plans")
    args = parser.parse_args()
    repeat = args.repeat or (300 if args.quick else 3000)

    _setup_django(args.database)
    from django.test import Client

    from apps.chats.selectors import message_history_page
    from apps.core.services import api_key_create

    chat, load_seconds = _ensure_data(args.messages)
    n = args.messages
    positions = {"newest": 0, "10%": n // 10, "50%": n // 2, "90%": n * 9 // 10, "99%": n * 99 // 100,
                 "oldest page": max(0, n - PAGE)}
    cursors = {name: _cursor_at(chat, depth) for name, depth in positions.items()}
    randoms = _random_cursors(chat, 1000)

    rows: list[tuple[str, list[float]]] = []
    for name, cursor in cursors.items():
        page = message_history_page(chat=chat, before=cursor, limit=PAGE)
        assert len(page.messages) == min(PAGE, n - positions[name]), name
        rows.append((name, _time(lambda c=cursor: message_history_page(chat=chat, before=c, limit=PAGE),
                                 repeat)))
    picks = iter(randoms * (repeat // max(1, len(randoms)) + 2))
    rows.append(("random depth", _time(lambda: message_history_page(chat=chat, before=next(picks), limit=PAGE),
                                       repeat)))

    # The whole endpoint (API-key auth, scoping, serialisation) for the newest and the 99% page.
    key = api_key_create(workspace=chat.project.workspace, name="bench").raw_key
    client = Client(headers={"X-API-Key": key})
    base = f"/api/chat/{chat.project_id}/messages?chatId={chat.id}&limit={PAGE}"
    endpoint_rows: list[tuple[str, list[float]]] = []
    for name in ("newest", "99%"):
        url = base + (f"&before={cursors[name]}" if cursors[name] else "")
        assert client.get(url).status_code == 200
        endpoint_rows.append((f"endpoint {name}", _time(lambda u=url: client.get(u), max(100, repeat // 5))))

    index_used = all(_explain(chat, cursors[name], args.verbose) for name in ("newest", "99%", "oldest page"))

    load = os.getloadavg()[0]
    print(f"\nhistory pagination — one chat of {n:,} messages, page {PAGE}, {repeat} calls per row "
          f"(load average {load:.2f} on {os.cpu_count()} CPUs)")
    print(f"{'position':<16}{'calls':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, timings in rows + endpoint_rows:
        print(f"{name:<16}{len(timings):>7}{statistics.median(timings):>9.2f}{_pct(timings, .95):>9.2f}"
              f"{_pct(timings, .99):>9.2f}{max(timings):>9.2f}")
    print(f"plan walks message_chat_keyset without a sort: {'yes' if index_used else 'NO'}")

    p95 = {name: _pct(timings, 0.95) for name, timings in rows}
    deep = [name for name in p95 if name != "newest"]
    result = {
        "messages": n, "page_size": PAGE, "repeat": repeat,
        "p95_ms_newest": round(p95["newest"], 3),
        "p95_ms_deep": round(max(p95[name] for name in deep), 3),
        **{f"p95_ms_{name.replace('%', 'pct').replace(' ', '_')}": round(p95[name], 3) for name in deep},
        **{f"p95_ms_{name.replace(' ', '_').replace('%', 'pct')}": round(_pct(t, 0.95), 3)
           for name, t in endpoint_rows},
        "index_used": index_used,
        "load_average": round(load, 2),
        "load_seconds": round(load_seconds, 1) if load_seconds is not None else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
