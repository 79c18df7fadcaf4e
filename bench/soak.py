#!/usr/bin/env python
"""Soak: many SSE and WebSocket streams held for a set time, mixed with stops, resumes and reloads.

Against one ASGI worker, then two workers behind Redis (a run started on one is stopped or
resumed through the other), on a dedicated database (``blueprint_bench_soak``, dropped and
migrated at start) with a fake OpenAI upstream in its own process (200 tokens × 20 ms).

Each simulated user loops: send a message (SSE or WebSocket, by its kind), read to the end.
A chaos task meanwhile, every ``--chaos-every`` seconds, picks a live run and either stops it
through a random worker, resumes it from a random seq through another worker (the replay must
equal what the owner saw), or "reloads" a WebSocket user (drops its socket mid-answer, then
resumes the run by ``runId`` + ``afterSeq`` on a new socket — the text must come out whole).

Prints, per topology: streams completed and held at once, inter-event p95 gap, TTFT p50/p95,
errors by kind, each worker's RSS growth, and the invariant checker's verdict (tests/invariants.py,
from Postgres alone). With ``--long-minutes M`` one more stream is held M minutes with
``: ping`` heartbeats (seed 004 promises 15+). The last line is one JSON object.

    .venv/bin/python bench/soak.py --quick                # ~2 minutes
    .venv/bin/python bench/soak.py                        # defaults: ≤ 10 minutes on 2 cores
    .venv/bin/python bench/soak.py --duration 600 --sse 100 --ws 100 --long-minutes 15   # full size
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import itertools

from bench import stream_procs as sp

sp.DATABASE = "blueprint_bench_soak"
LOG_DIR = sp.ROOT / "var" / "bench-soak"
TOKENS, TOKEN_MS = 200, 20
TERMINAL = ("error", "session.task_complete")


@dataclass
class Stats:
    completed: int = 0
    stopped: int = 0
    resumes_checked: int = 0
    reloads_checked: int = 0
    open_now: int = 0
    open_max: int = 0
    gaps: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    received: dict[str, str] = field(default_factory=dict)  # run id → text the client assembled

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def opened(self) -> None:
        self.open_now += 1
        self.open_max = max(self.open_max, self.open_now)


@dataclass
class Live:
    """A run some user is reading right now (what chaos may act on)."""

    run_id: str
    chat_id: str
    events: list[dict[str, Any]]
    ws_user: Any = None  # the socket of a WebSocket user, for a reload
    reloaded: bool = False  # chaos closed its socket: the user resumes on a new one


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(e.get("delta", "") for e in events if e["type"] == "assistant.message_delta")


def record_timing(stats: Stats, sent: float, times: list[float]) -> None:
    if times:
        stats.ttfts.append(times[0] - sent)
        stats.gaps.extend(b - a for a, b in itertools.pairwise(times))


async def sse_events(response: aiohttp.ClientResponse, on_event: Any = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    buffer = b""
    async for chunk in response.content.iter_any():
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            for line in frame.split(b"\n"):
                if line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    events.append(event)
                    if on_event is not None:
                        on_event(event)
        if events and events[-1]["type"] in TERMINAL:
            break
    return events


class Soak:
    def __init__(self, args: argparse.Namespace, workers: list[sp.Child], tenant: sp.Tenant) -> None:
        self.args, self.workers, self.tenant = args, workers, tenant
        self.headers = {"X-API-Key": tenant.api_key, "Content-Type": "application/json"}
        self.stats = Stats()
        self.live: dict[str, Live] = {}
        self.deadline = 0.0
        self.chats = iter(tenant.chat_ids)

    def worker(self) -> sp.Child:
        return random.choice(self.workers)

    async def sse_user(self, session: aiohttp.ClientSession) -> None:
        chat = next(self.chats)
        while time.monotonic() < self.deadline:
            target = self.worker()
            sent, times = time.perf_counter(), []
            live: Live | None = None

            def seen(event: dict[str, Any], times: list[float] = times) -> None:
                nonlocal live
                if event["type"] == "run.started":
                    live = self.live[event["runId"]] = Live(event["runId"], chat, [])
                if live is not None:
                    live.events.append(event)
                if event["type"] == "assistant.message_delta":
                    times.append(time.perf_counter())

            self.stats.opened()
            try:
                async with asyncio.timeout(120), session.post(
                        f"{target.url}/api/chat/{self.tenant.project_id}/messages", headers=self.headers,
                        data=json.dumps({"chatId": chat, "text": "Sketch an online shop's entities.",
                                         "model": "gpt-4o"})) as response:
                    if response.status != 200:
                        self.stats.error(f"sse HTTP {response.status}")
                        await asyncio.sleep(1)  # back off after a refusal, bounded by the deadline
                        continue
                    events = await sse_events(response, seen)
                self.finish(events, sent, times)
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.stats.error(f"sse {type(exc).__name__}")
            finally:
                self.stats.open_now -= 1
                if live is not None:
                    self.live.pop(live.run_id, None)

    async def ws_user(self, session: aiohttp.ClientSession) -> None:
        chat = next(self.chats)
        while time.monotonic() < self.deadline:
            target = self.worker()
            self.stats.opened()
            try:
                async with asyncio.timeout(120):
                    await self.ws_turn(session, target, chat)
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
                self.stats.error(f"ws {type(exc).__name__}")
            finally:
                self.stats.open_now -= 1

    async def ws_turn(self, session: aiohttp.ClientSession, target: sp.Child, chat: str) -> None:
        ws_url = target.url.replace("http://", "ws://") + f"/api/chat/{self.tenant.project_id}/ws"
        sent, times = time.perf_counter(), []
        events: list[dict[str, Any]] = []
        live: Live | None = None
        ws = await session.ws_connect(ws_url, headers=self.headers)
        try:
            await ws.send_str(json.dumps({"type": "message", "chatId": chat, "model": "gpt-4o",
                                          "text": "Sketch an online shop's entities."}))
            while True:
                frame = await ws.receive()
                if frame.type != aiohttp.WSMsgType.TEXT:
                    if live is not None and live.reloaded:  # dropped by a chaos "reload": resume elsewhere
                        await self.ws_resume(session, live, events, times)
                        self.stats.reloads_checked += 1
                        break
                    self.stats.error(f"ws frame {frame.type.name}")
                    return
                event = json.loads(frame.data)
                if "seq" not in event:
                    self.stats.error(f"ws {event.get('error', 'frame')}")
                    return
                if event["type"] == "run.started":
                    live = self.live[event["runId"]] = Live(event["runId"], chat, events, ws)
                events.append(event)
                if event["type"] == "assistant.message_delta":
                    times.append(time.perf_counter())
                if event["type"] in TERMINAL:
                    break
            self.finish(events, sent, times)
        finally:
            if live is not None:
                self.live.pop(live.run_id, None)
            await ws.close()

    async def ws_resume(self, session: aiohttp.ClientSession, live: Live, events: list[dict[str, Any]],
                        times: list[float]) -> None:
        """A reloaded page: a new socket on any worker, ``resume`` after the last seq it showed."""
        target = self.worker()
        ws_url = target.url.replace("http://", "ws://") + f"/api/chat/{self.tenant.project_id}/ws"
        async with session.ws_connect(ws_url, headers=self.headers) as ws:
            await ws.send_str(json.dumps({"type": "resume", "runId": live.run_id, "afterSeq": events[-1]["seq"]}))
            while events[-1]["type"] not in TERMINAL:
                frame = await ws.receive()
                if frame.type != aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"resume socket {frame.type.name}")
                event = json.loads(frame.data)
                if event.get("seq") != events[-1]["seq"] + 1:
                    self.stats.error("reload: seq gap or duplicate")
                    return
                events.append(event)
                if event["type"] == "assistant.message_delta":
                    times.append(time.perf_counter())

    def finish(self, events: list[dict[str, Any]], sent: float, times: list[float]) -> None:
        if not events or events[-1]["type"] not in TERMINAL:
            self.stats.error("no terminal event")
            return
        if [e["seq"] for e in events] != list(range(1, len(events) + 1)):
            self.stats.error("seq gap")
        terminal = events[-1]
        if terminal["type"] == "error":
            self.stats.error(f"error event {terminal.get('error')}")
        elif terminal.get("status") == "stopped":
            self.stats.stopped += 1
        else:
            self.stats.completed += 1
            record_timing(self.stats, sent, times)
        self.stats.received[events[0]["runId"]] = text_of(events)

    async def chaos(self, session: aiohttp.ClientSession) -> None:
        while time.monotonic() < self.deadline:
            await asyncio.sleep(self.args.chaos_every)  # the chaos rate, not a wait for a condition
            candidates = [live for live in self.live.values() if len(live.events) > 5]
            if not candidates:
                continue
            live = random.choice(candidates)
            action = random.choice(["stop", "resume", "reload"] if live.ws_user is not None else ["stop", "resume"])
            try:
                async with asyncio.timeout(60):
                    await getattr(self, f"chaos_{action}")(session, live)
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.stats.error(f"chaos {action} {type(exc).__name__}")

    async def chaos_stop(self, session: aiohttp.ClientSession, live: Live) -> None:
        async with session.post(f"{self.worker().url}/api/chat/{self.tenant.project_id}/stop",
                                headers=self.headers, data=json.dumps({"chatId": live.chat_id})) as response:
            if response.status != 200:
                self.stats.error(f"stop HTTP {response.status}")

    async def chaos_resume(self, session: aiohttp.ClientSession, live: Live) -> None:
        after = random.randint(0, len(live.events) - 1)
        async with session.get(f"{self.worker().url}/api/runs/{live.run_id}/stream?after={after}",
                               headers=self.headers) as response:
            replay = await sse_events(response)
        owner = live.events
        while owner[-1]["type"] not in TERMINAL and time.monotonic() < self.deadline + 60:
            await asyncio.sleep(0.05)  # the owner is still reading; bounded
        if replay != owner[after:]:
            self.stats.error("resume replay differs from the live stream")
        self.stats.resumes_checked += 1

    async def chaos_reload(self, _session: aiohttp.ClientSession, live: Live) -> None:
        live.reloaded = True
        await live.ws_user.close()  # the WebSocket user's page reloads mid-answer

    async def run(self, duration: float) -> None:
        self.deadline = time.monotonic() + duration
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
                                         connector=aiohttp.TCPConnector(limit=0)) as session:
            users = [self.sse_user(session) for _ in range(self.args.sse)]
            users += [self.ws_user(session) for _ in range(self.args.ws)]
            await asyncio.gather(*users, self.chaos(session))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def rss_mb(child: sp.Child) -> float:
    return round(psutil.Process(child.pid).memory_info().rss / 2**20, 1)


def check(env: dict[str, str], received: dict[str, str]) -> dict[str, Any]:
    """The invariant checker over every run of the soak's workspace, in a process of its own."""
    code = ("import json, sys, django; django.setup()\n"
            "from apps.core.models import Workspace\nfrom tests.invariants import check_runs\n"
            "ws = Workspace.objects.get(name='bench-stream')\n"
            "v = check_runs(workspace_ids=[ws.pk], received=json.load(sys.stdin))\n"
            "print(json.dumps({'ok': v.ok, 'runs': v.runs, 'events': v.events, 'summary': v.summary()}))")
    out = subprocess.run([sp.PYTHON, "-c", code], cwd=sp.ROOT, env=env, input=json.dumps(received), text=True,
                         capture_output=True, check=True, timeout=600)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def wait_quiet(env: dict[str, str], timeout: float = 60) -> None:
    """Until no run of the soak is still running (stops and reaps finish), bounded."""
    code = ("import django; django.setup()\nfrom apps.chats.models import Run\n"
            "print(Run.objects.filter(status='running').count())")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run([sp.PYTHON, "-c", code], cwd=sp.ROOT, env=env, capture_output=True, text=True,
                             check=True)
        if out.stdout.strip().splitlines()[-1] == "0":
            return
        await asyncio.sleep(1)  # polling the database for the end of the last runs, bounded


def topology(args: argparse.Namespace, env: dict[str, str], fake: Any, workers_n: int) -> dict[str, Any]:
    from tests.fakes.script import Script

    sp.recreate_database()
    sp.migrate(env)
    tenant = sp.seed(env, 4 * (args.sse + args.ws) + 10)
    fake.reset()
    fake.set_script(Script(text=[f"tok{i} " for i in range(TOKENS)], token_delay=TOKEN_MS / 1000))
    server_env = {**env, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url}
    if workers_n > 1:
        server_env["REDIS_URL"] = args.redis
    children = sp.Children()
    try:
        workers = [sp.start_server(children, "daphne", sp.BLUEPRINT_APP, server_env, LOG_DIR, "/api/health")
                   for _ in range(workers_n)]
        rss_start = [rss_mb(w) for w in workers]
        soak = Soak(args, workers, tenant)
        print(f"soak: {workers_n} worker(s), {args.sse} SSE + {args.ws} WS users, {args.duration:g} s …",
              file=sys.stderr, flush=True)
        asyncio.run(soak.run(args.duration))
        rss_end = [rss_mb(w) for w in workers]
        asyncio.run(wait_quiet(env))
        verdict = check(env, soak.stats.received)
    finally:
        children.stop_all()
    s = soak.stats
    return {"workers": workers_n, "sse_users": args.sse, "ws_users": args.ws, "duration_s": args.duration,
            "streams_completed": s.completed, "streams_stopped": s.stopped, "streams_held_max": s.open_max,
            "resumes_checked": s.resumes_checked, "reloads_checked": s.reloads_checked,
            "event_gap_p50_ms": pct(s.gaps, 0.5), "event_gap_p95_ms": pct(s.gaps, 0.95),
            "ttft_p50_ms": pct(s.ttfts, 0.5), "ttft_p95_ms": pct(s.ttfts, 0.95),
            "errors": s.errors, "error_count": sum(s.errors.values()),
            "rss_start_mb": rss_start, "rss_end_mb": rss_end,
            "rss_growth_mb": [round(b - a, 1) for a, b in zip(rss_start, rss_end, strict=True)],
            "checker": verdict}


def long_stream(args: argparse.Namespace, env: dict[str, str], fake: Any) -> dict[str, Any]:
    """One stream held ``--long-minutes``, a token every 20 s: between tokens only the ``: ping``
    heartbeats (every 15 s) cross the connection."""
    from tests.fakes.script import Script

    minutes = args.long_minutes
    tokens = max(2, int(minutes * 3))
    fake.set_script(Script(text=[f"t{i} " for i in range(tokens)], token_delay=minutes * 60 / tokens))
    server_env = {**env, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url,
                  "PROVIDER_IDLE_TIMEOUT_S": "60"}
    tenant = sp.seed(env, 1)
    children = sp.Children()

    async def hold(url: str) -> dict[str, Any]:
        pings, deltas, started = 0, 0, time.monotonic()
        last, max_quiet = started, 0.0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=minutes * 60 + 120)) as session:
            async with session.post(f"{url}/api/chat/{tenant.project_id}/messages",
                                    headers={"X-API-Key": tenant.api_key, "Content-Type": "application/json"},
                                    data=json.dumps({"chatId": tenant.chat_ids[0], "text": "long",
                                                     "model": "gpt-4o"})) as response:
                terminal = None
                async for line in response.content:
                    now = time.monotonic()
                    max_quiet, last = max(max_quiet, now - last), now
                    pings += line.startswith(b": ping")
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        deltas += event["type"] == "assistant.message_delta"
                        if event["type"] in TERMINAL:
                            terminal = event
                            break
        return {"minutes": minutes, "held_s": round(time.monotonic() - started, 1), "heartbeats": pings,
                "deltas": deltas, "max_silence_s": round(max_quiet, 1),
                "ended": terminal and (terminal.get("status") or terminal.get("error"))}

    try:
        worker = sp.start_server(children, "daphne", sp.BLUEPRINT_APP, server_env, LOG_DIR, "/api/health")
        print(f"soak: one stream held {minutes:g} min …", file=sys.stderr, flush=True)
        return asyncio.run(hold(worker.url))
    finally:
        children.stop_all()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 s per topology, 10 SSE + 10 WS users")
    parser.add_argument("--duration", type=float, default=150.0, help="seconds per topology")
    parser.add_argument("--sse", type=int, default=40, help="concurrent SSE users")
    parser.add_argument("--ws", type=int, default=40, help="concurrent WebSocket users")
    parser.add_argument("--workers", default="1,2", help="topologies: worker counts (2+ use Redis)")
    parser.add_argument("--chaos-every", type=float, default=1.0, help="seconds between chaos actions")
    parser.add_argument("--long-minutes", type=float, default=0.0, help="also hold one stream this long")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.sse, args.ws = 30.0, 10, 10
    return args


def main() -> None:
    args = parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    env = sp.base_env()
    results: dict[str, Any] = {"mode": "quick" if args.quick else "custom", **sp.code_version(),
                               "cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    from tests.fakes.process import SubprocessFake

    if "2" in args.workers.split(",") and shutil.which("redis-server") is None:
        raise SystemExit("two workers need Redis (scripts/ensure-redis.sh)")
    fake = SubprocessFake("openai")
    try:
        for n in (int(x) for x in args.workers.split(",")):
            results[f"workers_{n}"] = topology(args, env, fake, n)
        if args.long_minutes > 0:
            results["long_stream"] = long_stream(args, env, fake)
    finally:
        fake.close()
    print("\nBlueprint soak")
    for key, row in results.items():
        if not key.startswith("workers_"):
            continue
        print(f"  {row['workers']} worker(s): {row['streams_completed']} streams completed, "
              f"{row['streams_stopped']} stopped, {row['streams_held_max']} held at once; "
              f"event gap p50/p95 {row['event_gap_p50_ms']}/{row['event_gap_p95_ms']} ms; "
              f"TTFT p50/p95 {row['ttft_p50_ms']}/{row['ttft_p95_ms']} ms; "
              f"errors {row['error_count']} {row['errors'] or ''}; RSS growth {row['rss_growth_mb']} MB; "
              f"resumes {row['resumes_checked']}, reloads {row['reloads_checked']}; "
              f"checker: {row['checker']['summary']}")
    if "long_stream" in results:
        print(f"  long stream: {results['long_stream']}")
    results["median_gap_p95_ms"] = statistics.median(
        [r["event_gap_p95_ms"] for k, r in results.items() if k.startswith("workers_") and r["event_gap_p95_ms"]]
        or [0])
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
