#!/usr/bin/env python
"""Where Blueprint's time to first token goes: a traced copy of the ASGI app, one request at a time.

``bench.stream_trace:application`` is ``config.asgi.application`` with timers wrapped around
the steps of ``POST /api/chat/{projectId}/messages`` (by patching module attributes at import;
no engine code changes): the routing and session middleware, API-key lookup, the engine's DB
calls (time waiting for a thread and time running) — among them the run's one set-up call,
``run_db(run_open)``, with its set-up statement (chat lookup, quota, the run's rows) and its
prompt — the subscription, the response start, the provider call to its first event, and the
first delta written. ``GET /__trace`` returns and clears the spans. Run as a script it serves that
app under daphne or uvicorn next to the raw relay (the fake upstream as in bench/stream.py),
sends sequential single streams, alternating raw / Blueprint, and prints the median of each
step:

    .venv/bin/python bench/stream_trace.py [--server daphne|uvicorn] [--samples 40]
"""
from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATABASE = "blueprint_bench_trace"
SPANS: list[tuple[str, float, float]] = []  # (name, start, end), perf_counter seconds


def _span(name: str, start: float) -> None:
    SPANS.append((name, start, time.perf_counter()))


def _instant(name: str) -> None:
    now = time.perf_counter()
    SPANS.append((name, now, now))


def _timed_sync(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _span(name + " (running)", start)
    return inner


def _timed_async(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def inner(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            _span(name, start)
    return inner


def _thread_hop(name: str, adapter: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps ``sync_to_async``-style adapters: the await in total, and the sync call itself."""
    def make(fn: Callable[..., Any], *a: Any, **kw: Any) -> Callable[..., Any]:
        label = f"{name}({getattr(fn, '__name__', 'fn')})"
        return _timed_async(label, adapter(_timed_sync(label, fn), *a, **kw))
    return make


def _run_db_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    async def run_db(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        label = f"run_db({getattr(fn, '__name__', 'fn')})"
        start = time.perf_counter()
        try:
            return await original(_timed_sync(label, fn), *args, **kwargs)
        finally:
            _span(label, start)
    return run_db


def _install() -> Any:
    import importlib

    application = importlib.import_module("config.asgi").application  # sets Django up first
    auth, engine_api, opening, store, runner, http, native, provider = (importlib.import_module(name) for name in (
        "apps.core.auth", "apps.engine.api", "apps.engine.opening", "apps.engine.store", "apps.engine.runner",
        "apps.streaming.http", "apps.streaming.native", "apps.providers.openai_provider"))
    OpenAIProvider = provider.OpenAIProvider

    # The steps of the one set-up hop (engine.start_run → run_db(run_open)), on its thread. The
    # chat is looked up on its own only for a request without a model (its default decides).
    opening.chat_for_run = _timed_sync("  chat lookup", opening.chat_for_run)  # type: ignore[assignment]
    store.run_begin = _timed_sync("  set-up statement", store.run_begin)  # type: ignore[assignment]
    opening.prepare_prompt = _timed_sync("  prompt", opening.prepare_prompt)  # type: ignore[assignment]

    auth.sync_to_async = _thread_hop("sync_to_async", auth.sync_to_async)  # type: ignore[assignment]
    native.database_sync_to_async = _thread_hop(  # type: ignore[assignment]
        "database_sync_to_async", native.database_sync_to_async)
    engine_api.run_db = _run_db_wrapper(engine_api.run_db)  # type: ignore[assignment]
    runner.run_db = _run_db_wrapper(runner.run_db)  # type: ignore[assignment]
    engine_api.start_run = _timed_async("engine.start_run", engine_api.start_run)  # type: ignore[assignment]
    engine_api.subscribe = _timed_async("engine.subscribe", engine_api.subscribe)  # type: ignore[assignment]
    http.Call.start_stream = _timed_async("Call.start_stream", http.Call.start_stream)  # type: ignore[method-assign]
    endpoint_call = native.SendMessageEndpoint.__call__

    async def endpoint(self: Any, scope: Any, receive: Any, send: Any) -> None:
        _instant("endpoint entered")
        await endpoint_call(self, scope, receive, send)
    native.SendMessageEndpoint.__call__ = endpoint  # type: ignore[method-assign]

    provider_stream = OpenAIProvider.stream

    async def stream(self: Any, request: Any) -> Any:
        _instant("provider called")
        start = time.perf_counter()
        first = True
        async for event in provider_stream(self, request):
            if first:
                _span("provider: call → first event", start)
                first = False
            yield event
    OpenAIProvider.stream = stream  # type: ignore[method-assign]
    return application


_application: Any = None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _application
    if _application is None:
        _application = _install()
    if scope["type"] == "http" and scope["path"] == "/__trace":
        body = json.dumps(SPANS).encode()
        SPANS.clear()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] != "http" or scope.get("method") != "POST":
        await _application(scope, receive, send)
        return
    _instant("request arrived")
    first = [True]

    async def traced_send(message: dict[str, Any]) -> None:
        if first[0] and message["type"] == "http.response.body" and b"message_delta" in message.get("body", b""):
            first[0] = False
            _instant("first delta sent")
        await send(message)

    await _application(scope, receive, traced_send)


# --- the script ---------------------------------------------------------------------------------


def _phases(spans: list[list[Any]]) -> dict[str, float]:
    """Milliseconds per step of one request; instants are relative to the request's arrival."""
    arrived = next(s for n, s, _ in spans if n == "request arrived")
    out: dict[str, float] = {}
    for name, start, end in spans:
        if start == end:
            out[f"@ {name}"] = (start - arrived) * 1000
        elif name not in out:
            out[name] = (end - start) * 1000
    return out


def main() -> None:
    import argparse

    from bench import stream_procs as sp

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("daphne", "uvicorn"), default="daphne")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the servers (e.g. API_KEY_CACHE_SECONDS=0)")
    args = parser.parse_args()
    with sp.exclusive_run():
        trace(args)


def trace(args: Any) -> None:
    import asyncio
    import statistics
    import urllib.request

    from bench import stream_client as sc
    from bench import stream_procs as sp
    from bench.stream import LOG_DIR, upstream_script
    from tests.fakes.process import SubprocessFake

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    # Its own database: bench/stream.py drops and recreates its one at start.
    env = {**sp.base_env(), "EMBEDDED_PG_DATABASE": DATABASE}
    sp.migrate(env)
    tenant = sp.seed(env, args.samples + 10)
    children = sp.Children()
    fake = SubprocessFake("openai", upstream_script())
    try:
        env = {**env, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url,
               **dict(item.split("=", 1) for item in args.env)}
        raw = sp.start_server(children, args.server, sp.RAW_APP, env, LOG_DIR, "/")
        bp = sp.start_server(children, args.server, "bench.stream_trace:application", env, LOG_DIR, "/api/health")
        project = tenant.project_id
        raw_target = sc.Target("raw", raw.url, raw.pid, "/", "/")
        bp_target = sc.Target("blueprint", bp.url, bp.pid, f"/api/chat/{project}/messages", "",
                              {"X-API-Key": tenant.api_key, "Content-Type": "application/json"}, tenant.chat_ids)
        rows: list[dict[str, float]] = []
        ttft: dict[str, list[float]] = {"raw": [], "blueprint": []}

        async def run() -> None:
            await sc.sequential_ttft([raw_target, bp_target], "sse", 3)  # warm-up
            urllib.request.urlopen(bp.url + "/__trace").read()
            for _ in range(args.samples):
                got = await sc.sequential_ttft([raw_target, bp_target], "sse", 1)
                for name, values in got.items():
                    ttft[name] += values
                rows.append(_phases(json.loads(urllib.request.urlopen(bp.url + "/__trace").read())))

        asyncio.run(run())
    finally:
        children.stop_all()
        fake.close()
    print(f"{args.samples} sequential SSE streams under {args.server}; medians in ms")
    print(f"  TTFT at the client: raw {statistics.median(ttft['raw']) * 1000:.1f}, "
          f"Blueprint {statistics.median(ttft['blueprint']) * 1000:.1f}")
    names = list(dict.fromkeys(name for row in rows for name in row))
    print(f"  {'since the request arrived':<58} {'median':>8}")
    for name in sorted((n for n in names if n.startswith("@")),
                       key=lambda n: statistics.median([r[n] for r in rows if n in r])):
        print(f"  {name[2:]:<58} {statistics.median([r[name] for r in rows if name in r]):8.2f}")
    print(f"  {'step (await in all; running = on its thread)':<58} {'median':>8} {'p95':>8}")
    for name in (n for n in names if not n.startswith("@")):
        values = sorted(r[name] for r in rows if name in r)
        p95 = values[max(0, -(-95 * len(values) // 100) - 1)]
        print(f"  {name:<58} {statistics.median(values):8.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()
