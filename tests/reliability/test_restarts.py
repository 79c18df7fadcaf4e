"""Infrastructure restarts under live runs (SPEC §4.3, §4.8): Redis and Postgres.

* Redis restarted while a run streams through worker A and is tailed through worker B:
  live fan-out degrades to Postgres polling, B still receives every event, nothing is lost.
* Postgres restarted while a run streams: the run ends cleanly (one terminal event, nothing
  half-written), and the same worker serves new runs afterwards without a restart.

Both use servers of their own (a Redis on another port, an embedded PostgreSQL in its own
data folder) so that nothing else sharing the machine's services is disturbed. The checker
then runs against what they left behind.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from tests.engine.conftest import default_chat, text_script
from tests.invariants import check_runs
from tests.streaming.conftest import read_sse
from tests.workers import ROOT, Worker, free_port, spawn_worker, stop_workers, wait_healthy

ENGINE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.test",
    "TEST_OPENAI_API_KEY": "sk-test",
    "ENGINE_FLUSH_INTERVAL_MS": "100",
    "ENGINE_HEARTBEAT_INTERVAL_S": "0.5",
    "ENGINE_STALE_AFTER_S": "3",
    "ENGINE_REAPER_INTERVAL_S": "0.5",
    "ENGINE_SUBSCRIBER_POLL_S": "0.5",
    "RATE_LIMIT_PER_MINUTE": "1000",
}


def _events_text(events: list[dict[str, Any]]) -> str:
    return "".join(e.get("delta", "") for e in events if e["type"] == "assistant.message_delta")


# --- Redis ------------------------------------------------------------------------------


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bp-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    async def wait_up(self) -> None:
        async with asyncio.timeout(10):
            while True:
                try:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.write(b"PING\r\n")
                    if (await reader.read(16)).startswith(b"+PONG"):
                        writer.close()
                        return
                    writer.close()
                except OSError:
                    pass
                await asyncio.sleep(0.05)  # polling until the server listens, with a deadline


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    await server.wait_up()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
async def test_redis_restart_degrades_to_polling_and_loses_nothing(tenant_async, fake_upstream, redis_server):
    fake_upstream.set_script(text_script(250, delay=0.02))
    env = {**os.environ, **ENGINE_ENV, "EMBEDDED_PG_DATABASE": settings.DATABASES["default"]["NAME"],
           "REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/0", "TEST_OPENAI_BASE_URL": fake_upstream.base_url}
    env.pop("DATABASE_URL", None)
    workers = [spawn_worker("A", env), spawn_worker("B", env)]
    headers = {"X-API-Key": tenant_async.raw_key, "Content-Type": "application/json"}
    chat = await default_chat(tenant_async)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90)) as session:
            for worker in workers:
                await wait_healthy(session, worker)
            a, b = workers
            on_a = await session.post(f"{a.url}/api/chat/{tenant_async.project.pk}/messages", headers=headers,
                                      data=json.dumps({"chatId": str(chat.pk), "text": "hi", "model": "gpt-4o"}))
            head = await read_sse(on_a, limit=5)
            run_id = head[0].data["runId"]
            on_b = await session.get(f"{b.url}/api/runs/{run_id}/stream?after=0", headers=headers)
            b_head = await read_sse(on_b, limit=5)
            redis_server.kill()
            during = await read_sse(on_a, limit=40)  # the run goes on while Redis is down
            redis_server.start()
            await redis_server.wait_up()
            rest_a = await read_sse(on_a)
            rest_b = await read_sse(on_b)
            seen_a = [e.data for e in head + during + rest_a]
            seen_b = [e.data for e in b_head + rest_b]
            # After the restart the live path works again: a second run started on B, tailed on A.
            on_b2 = await session.post(f"{b.url}/api/chat/{tenant_async.project.pk}/messages", headers=headers,
                                       data=json.dumps({"chatId": str(chat.pk), "text": "again", "model": "gpt-4o"}))
            head2 = await read_sse(on_b2, limit=3)
            run2 = head2[0].data["runId"]
            on_a2 = await session.get(f"{a.url}/api/runs/{run2}/stream?after=0", headers=headers)
            seen_a2 = [e.data for e in await read_sse(on_a2)]
            await read_sse(on_b2)
    finally:
        stop_workers(workers)
    assert seen_a[-1]["type"] == "session.task_complete" and seen_a[-1]["status"] == "completed"
    assert seen_b == seen_a  # every event reached B, in order, despite the restart
    assert [e["seq"] for e in seen_a] == list(range(1, len(seen_a) + 1))
    assert seen_a2[-1]["type"] == "session.task_complete"
    verdict = await sync_to_async(check_runs)([run_id, run2], received={run_id: _events_text(seen_a),
                                                                         run2: _events_text(seen_a2)})
    assert verdict.ok, verdict.summary()


# --- Postgres -----------------------------------------------------------------------------

FAULTS_PGDATA = ROOT / "var" / "pgdata-faults"
FAULTS_DB = "faults"


def _faults_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **ENGINE_ENV, "EMBEDDED_PG_DATA": str(FAULTS_PGDATA), "EMBEDDED_PG_DATABASE": FAULTS_DB,
           **extra}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return env


def _manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=True)
    return done.stdout


CHECK = """
import json, django
django.setup()
from apps.chats.models import Run
from tests.invariants import check_runs
ws = {ws!r}
verdict = check_runs(workspace_ids=[ws], received=json.loads({received!r}))
print(json.dumps({{"ok": verdict.ok, "summary": verdict.summary(), "runs": verdict.runs,
                  "running": Run.objects.filter(chat__project__workspace_id=ws, status="running").count()}}))
"""


def _check_faults_db(env: dict[str, str], workspace_id: str, received: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", CHECK.format(ws=workspace_id, received=json.dumps(received))],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _restart_postgres() -> None:
    from config.embedded_db import ensure_running, stop

    stop(FAULTS_PGDATA)
    ensure_running(FAULTS_PGDATA, FAULTS_DB)


@pytest.mark.slow
async def test_postgres_restart_ends_runs_cleanly_and_the_worker_recovers(fake_upstream):
    from config.embedded_db import ensure_running

    fake_upstream.set_script(text_script(300, delay=0.02))
    await asyncio.to_thread(ensure_running, FAULTS_PGDATA, FAULTS_DB)
    env = _faults_env({"TEST_OPENAI_BASE_URL": fake_upstream.base_url})
    await asyncio.to_thread(_manage, env, "migrate", "--noinput")
    created = await asyncio.to_thread(_manage, env, "create_api_key", "--workspace", f"pg-{uuid.uuid4().hex[:8]}")
    lines = created.strip().splitlines()
    key = lines[-1]
    workspace_id = lines[0].rsplit("(", 1)[1].rstrip(")")
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    worker: Worker = spawn_worker("P", env, log=Path(tempfile.mkdtemp(prefix="bp-worker-")) / "stderr.log")
    received: dict[str, str] = {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
            await wait_healthy(session, worker)
            project = await (await session.post(f"{worker.url}/api/projects", headers=headers,
                                                data=json.dumps({"name": "restart"}))).json()
            send = f"{worker.url}/api/chat/{project['id']}/messages"
            first = await session.post(send, headers=headers, data=json.dumps({"text": "hi", "model": "gpt-4o"}))
            head = await read_sse(first, limit=10)
            await asyncio.to_thread(_restart_postgres)
            events = [e.data for e in head + await read_sse(first)]
            run_id = events[0]["runId"]
            received[run_id] = _events_text(events)
            terminals = [e for e in events if e["type"] in ("error", "session.task_complete")]
            assert len(terminals) == 1 and events[-1] is terminals[0]
            # The same worker, not restarted, serves a new run from start to end.
            second = None
            async with asyncio.timeout(60):
                while second is None:
                    response = await session.post(send, headers=headers,
                                                  data=json.dumps({"text": "again", "model": "gpt-4o"}))
                    assert response.status in (200, 503), worker.log_tail()
                    if response.status == 200:
                        second = [e.data for e in await read_sse(response)]
                    else:
                        await asyncio.sleep(0.5)  # the service said it is not ready yet; bounded by the timeout
            assert second[-1]["type"] == "session.task_complete" and second[-1]["status"] == "completed"
            received[second[0]["runId"]] = _events_text(second)
            fake_upstream.set_script(text_script(3))
            async with asyncio.timeout(30):  # quiet: the reaper ends whatever the restart left running
                while (verdict := await asyncio.to_thread(_check_faults_db, env, workspace_id, received))["running"]:
                    await asyncio.sleep(0.5)
    finally:
        stop_workers([worker])
    assert verdict["ok"], verdict["summary"]
    assert verdict["runs"] == 2
