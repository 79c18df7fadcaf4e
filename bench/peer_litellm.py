#!/usr/bin/env python
"""Side by side: Blueprint's /v1/chat/completions and LiteLLM's proxy on the same fake upstream.

One fake OpenAI upstream (its own process; 200 tokens × 20 ms, usage reported) behind three
servers, each one worker process on loopback:

* ``raw``       — ``bench/raw_relay.py``: the same SDK relaying chunks, nothing else (the floor);
* ``litellm``   — LiteLLM's proxy (``litellm[proxy]`` from bench/requirements-peer.txt, its own
                  virtualenv ``.venv-peer``; ``make peer-venv``), with a master key;
* ``blueprint`` — Blueprint (API-key auth, the run's persisted event log, credit, RAG lookup),
                  ``daphne config.asgi:application``, on its own database ``blueprint_bench_peer``.

The client (aiohttp, this process, streaming requests with ``stream_options.include_usage``)
measures for each: TTFT p50/p95 of sequential requests (rounds alternate the servers) and what
each adds over ``raw``; the highest concurrency that stays clean (every stream complete,
inter-token gap p95 ≤ 40 ms, TTFT p95 < 500 ms) by a bounded search over a grid; server CPU per
1,000 relayed tokens (process and children); RSS per open stream. The last line is one JSON
object with ``ttft_p50_ratio_vs_litellm``, ``cpu_per_token_ratio_vs_litellm`` and
``concurrency_ratio_vs_litellm`` (Blueprint ÷ LiteLLM: below 1 is better for the first two,
above 1 better for the last).

    .venv/bin/python bench/peer_litellm.py [--quick] [--targets raw,litellm,blueprint]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import stream_procs as sp

sp.DATABASE = "blueprint_bench_peer"
LOG_DIR = sp.ROOT / "var" / "bench-peer"
PEER_VENV = sp.ROOT / ".venv-peer"
TOKENS, TOKEN_MS = 200, 20
MODEL = "gpt-4o"
GAP_LIMIT_S, TTFT_LIMIT_S = 0.040, 0.500
PROMPT = [{"role": "user", "content": "Sketch the entities of a small online shop."}]


@dataclass
class Target:
    name: str
    url: str
    headers: dict[str, str]
    process: psutil.Process

    def cpu(self) -> float:
        total = 0.0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def rss(self) -> int:
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total


@dataclass
class Stream:
    sent: float
    times: list[float]
    ok: bool
    error: str = ""

    @property
    def ttft(self) -> float:
        return self.times[0] - self.sent if self.times else math.inf


async def one_stream(session: aiohttp.ClientSession, target: Target) -> Stream:
    body = json.dumps({"model": MODEL, "messages": PROMPT, "stream": True,
                       "stream_options": {"include_usage": True}}).encode()
    sent, times = time.perf_counter(), []
    try:
        async with asyncio.timeout(60), session.post(f"{target.url}/v1/chat/completions", data=body,
                                                     headers=target.headers) as response:
            if response.status != 200:
                return Stream(sent, times, False, f"HTTP {response.status}: {(await response.text())[:200]}")
            buffer = b""
            async for chunk in response.content.iter_any():
                now = time.perf_counter()
                buffer += chunk
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    if frame.startswith(b"data: [DONE]"):
                        return Stream(sent, times, len(times) >= TOKENS)
                    if b'"content":"' in frame and b'"content":""' not in frame:
                        times.append(now)
            return Stream(sent, times, False, "no [DONE]")
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Stream(sent, times, False, type(exc).__name__)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.inf


def gaps(streams: list[Stream]) -> list[float]:
    out: list[float] = []
    for s in streams:
        out.extend(b - a for a, b in zip(s.times, s.times[1:], strict=False) if b - a > 0.001)
    return out


async def ttft_phase(targets: list[Target], samples: int) -> dict[str, dict[str, float]]:
    values: dict[str, list[float]] = {t.name: [] for t in targets}
    async with aiohttp.ClientSession() as session:
        for t in targets:  # warm-up
            await one_stream(session, t)
        for i in range(samples):
            order = targets[i % len(targets):] + targets[:i % len(targets)]
            for t in order:
                s = await one_stream(session, t)
                if s.ok:
                    values[t.name].append(s.ttft)
    return {name: {"p50_ms": round(pct(v, 0.5) * 1000, 1), "p95_ms": round(pct(v, 0.95) * 1000, 1), "n": len(v)}
            for name, v in values.items()}


async def level(target: Target, concurrency: int, window_s: float) -> dict[str, Any]:
    """``concurrency`` streams in a closed loop for one stream's length plus ``window_s``."""
    streams: list[Stream] = []
    deadline = time.perf_counter() + TOKENS * TOKEN_MS / 1000 + window_s
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def user() -> None:
            while time.perf_counter() < deadline:
                streams.append(await one_stream(session, target))

        await asyncio.gather(*(user() for _ in range(concurrency)))
    bad = [s for s in streams if not s.ok]
    gap95, ttft95 = pct(gaps(streams), 0.95), pct([s.ttft for s in streams], 0.95)
    clean = not bad and gap95 <= GAP_LIMIT_S and ttft95 < TTFT_LIMIT_S
    return {"concurrency": concurrency, "clean": clean, "streams": len(streams), "errors": len(bad),
            "gap_p95_ms": round(gap95 * 1000, 1), "ttft_p95_ms": round(ttft95 * 1000, 1),
            "first_error": bad[0].error if bad else ""}


async def search(target: Target, grid: list[int], window_s: float, budget_s: float) -> dict[str, Any]:
    started, best, tried = time.monotonic(), 0, []
    for c in grid:
        if time.monotonic() - started > budget_s:
            break
        result = await level(target, c, window_s)
        tried.append(result)
        if not result["clean"]:
            break
        best = c
    return {"max_clean": best, "levels": tried}


async def cpu_phase(target: Target, concurrency: int, rounds: int) -> float:
    """Server CPU seconds per 1,000 relayed tokens over ``rounds`` × ``concurrency`` streams."""
    before = target.cpu()
    tokens = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        for _ in range(rounds):
            done = await asyncio.gather(*(one_stream(session, target) for _ in range(concurrency)))
            tokens += sum(len(s.times) for s in done)
    return (target.cpu() - before) / max(tokens, 1) * 1000


async def rss_phase(target: Target, concurrency: int) -> float:
    """(RSS with ``concurrency`` streams open − idle RSS) ÷ streams, in KiB."""
    idle = target.rss()
    peak = idle
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = [asyncio.create_task(one_stream(session, target)) for _ in range(concurrency)]
        while not all(t.done() for t in tasks):
            peak = max(peak, target.rss())
            await asyncio.sleep(0.2)  # sampling RSS while the streams are open
    return (peak - idle) / concurrency / 1024


def start_litellm(children: sp.Children, fake_url: str) -> sp.Child:
    litellm = PEER_VENV / "bin" / "litellm"
    if not litellm.exists():
        raise SystemExit("LiteLLM is not installed: run `make peer-venv` first")
    config = LOG_DIR / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {fake_url}\n"
        "      api_key: sk-bench\n"
        "general_settings:\n"
        "  master_key: sk-litellm-bench\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  set_verbose: false\n"
    )
    port = sp.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "DJANGO", "DATABASE"))}
    env.update({"LITELLM_LOG": "ERROR", "DISABLE_ADMIN_UI": "True", "LITELLM_TELEMETRY": "False",
                "NO_DOCS": "True"})
    child = children.spawn("litellm", [str(litellm), "--config", str(config), "--host", sp.LOOPBACK,
                                       "--port", str(port), "--num_workers", "1"], env, LOG_DIR / "litellm.log")
    child.url = f"http://{sp.LOOPBACK}:{port}"
    deadline = time.monotonic() + 180
    import urllib.request

    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"litellm exited: {child.log_text()[-2000:]}")
        try:
            with urllib.request.urlopen(child.url + "/health/liveliness", timeout=2) as response:
                if response.status == 200:
                    return child
        except OSError:
            pass
        time.sleep(0.5)  # polling until the proxy listens, bounded by the deadline
    raise RuntimeError("litellm did not start within 180 s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--targets", default="raw,litellm,blueprint")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    names = args.targets.split(",")
    quick = args.quick
    samples, window, budget = (20, 2.0, 60.0) if quick else (40, 5.0, 180.0)
    grid = [10, 20, 40, 60, 80, 120, 160, 200] if quick else [10, 20, 30, 40, 60, 80, 100, 120, 160, 200, 250, 300]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    from tests.fakes.process import SubprocessFake
    from tests.fakes.script import Script

    children = sp.Children()
    fake = SubprocessFake("openai", Script(text=[f"tok{i} " for i in range(TOKENS)], token_delay=TOKEN_MS / 1000))
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "tokens": TOKENS, "token_ms": TOKEN_MS,
                               "cpus": os.cpu_count(), **sp.code_version(),
                               "load_average_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        targets: list[Target] = []
        env = {**sp.base_env(), "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": fake.base_url}
        if "raw" in names:
            raw = sp.start_server(children, "daphne", sp.RAW_APP, env, LOG_DIR, "/")
            targets.append(Target("raw", raw.url, {"Content-Type": "application/json"}, psutil.Process(raw.pid)))
        if "litellm" in names:
            peer = start_litellm(children, fake.base_url)
            targets.append(Target("litellm", peer.url, {"Content-Type": "application/json",
                                                        "Authorization": "Bearer sk-litellm-bench"},
                                  psutil.Process(peer.pid)))
        if "blueprint" in names:
            sp.recreate_database()
            sp.migrate(env)
            tenant = sp.seed(env, 1)
            bp = sp.start_server(children, "daphne", sp.BLUEPRINT_APP, env, LOG_DIR, "/api/health")
            targets.append(Target("blueprint", bp.url, {"Content-Type": "application/json",
                                                        "Authorization": f"Bearer {tenant.api_key}",
                                                        "X-Project-Id": tenant.project_id},
                                  psutil.Process(bp.pid)))
        print(f"peer bench: {', '.join(t.name for t in targets)} …", file=sys.stderr, flush=True)
        results["ttft"] = asyncio.run(ttft_phase(targets, samples))
        for t in targets:
            print(f"  {t.name}: cpu, rss, concurrency …", file=sys.stderr, flush=True)
            results.setdefault("cpu_s_per_1k_tokens", {})[t.name] = round(asyncio.run(cpu_phase(t, 20, 2)), 4)
            results.setdefault("rss_kib_per_stream", {})[t.name] = round(asyncio.run(rss_phase(t, 100)), 1)
            results.setdefault("concurrency", {})[t.name] = asyncio.run(search(t, grid, window, budget))
    finally:
        children.stop_all()
        fake.close()
    report(results)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or math.isinf(a) or math.isinf(b):
        return None
    return round(a / b, 3)


def report(results: dict[str, Any]) -> None:
    ttft, cpu, rss, conc = (results.get(k, {}) for k in ("ttft", "cpu_s_per_1k_tokens", "rss_kib_per_stream",
                                                          "concurrency"))
    raw = ttft.get("raw")
    print("\nBlueprint vs LiteLLM proxy (same fake upstream: 200 tokens × 20 ms)")
    print(f"  {'server':<10} {'TTFT p50':>9} {'p95':>7} {'added p50':>10} {'p95':>7} {'CPU s/1k tok':>13} "
          f"{'RSS KiB/stream':>15} {'max clean streams':>18}")
    for name in ttft:
        added50 = ttft[name]["p50_ms"] - raw["p50_ms"] if raw else None
        added95 = ttft[name]["p95_ms"] - raw["p95_ms"] if raw else None
        ttft[name]["added_p50_ms"] = round(added50, 1) if added50 is not None else None
        ttft[name]["added_p95_ms"] = round(added95, 1) if added95 is not None else None
        print(f"  {name:<10} {ttft[name]['p50_ms']:>9} {ttft[name]['p95_ms']:>7} {ttft[name]['added_p50_ms']!s:>10} "
              f"{ttft[name]['added_p95_ms']!s:>7} {cpu.get(name, '')!s:>13} {rss.get(name, '')!s:>15} "
              f"{conc.get(name, {}).get('max_clean', '')!s:>18}")
    bp, peer = "blueprint", "litellm"
    results["ttft_p50_ratio_vs_litellm"] = ratio(ttft.get(bp, {}).get("p50_ms"), ttft.get(peer, {}).get("p50_ms"))
    results["ttft_added_p50_ratio_vs_litellm"] = ratio(ttft.get(bp, {}).get("added_p50_ms"),
                                                       ttft.get(peer, {}).get("added_p50_ms"))
    results["cpu_per_token_ratio_vs_litellm"] = ratio(cpu.get(bp), cpu.get(peer))
    results["rss_per_stream_ratio_vs_litellm"] = ratio(rss.get(bp), rss.get(peer))
    results["concurrency_ratio_vs_litellm"] = ratio(conc.get(bp, {}).get("max_clean"),
                                                    conc.get(peer, {}).get("max_clean"))
    print(f"  Blueprint ÷ LiteLLM: TTFT p50 {results['ttft_p50_ratio_vs_litellm']}, "
          f"added TTFT p50 {results['ttft_added_p50_ratio_vs_litellm']}, "
          f"CPU/token {results['cpu_per_token_ratio_vs_litellm']}, "
          f"RSS/stream {results['rss_per_stream_ratio_vs_litellm']}, "
          f"max clean streams {results['concurrency_ratio_vs_litellm']}")
    summary = {k: results[k] for k in ("ttft_p50_ratio_vs_litellm", "cpu_per_token_ratio_vs_litellm",
                                       "concurrency_ratio_vs_litellm")}
    print(json.dumps({**summary, "detail": {k: v for k, v in results.items() if k not in summary}}, default=str))


if __name__ == "__main__":
    main()
