#!/usr/bin/env python
"""Benchmark: Blueprint's streaming path against a bare ASGI relay of the same upstream.

A fake OpenAI upstream (``tests.fakes.openai_server``, its own process) streams 200 tokens
at 20 ms each, with usage. Blueprint (``config.asgi:application``: API-key auth, DB writes,
event log, fan-out, the real OpenAI SDK) and ``bench/raw_relay.py`` (the same SDK and HTTP
transport, nothing else) are each served by one ASGI worker process — under daphne, then
under uvicorn — on a dedicated database (``blueprint_bench_stream``, dropped and migrated
at start). The client (aiohttp, this process) measures:

* TTFT (request sent → first ``assistant.message_delta``) of single sequential streams,
  alternating raw / Blueprint, and Blueprint's added p50 / p95;
* the highest concurrency with inter-token gap p95 ≤ 40 ms and TTFT p95 < 500 ms, for SSE
  and WebSocket, by a bounded search over a grid of levels (≤ 400), and Blueprint / raw;
* server CPU per 1,000 relayed tokens and RSS per open stream;
* Blueprint's DB writes per run (from the engine's ``run … ended … db_writes=N`` log line).

Prints a table and, as its last line, one JSON object (top-level keys: daphne's figures).
Server logs (and py-spy profiles) go to var/bench-stream/. Method and figures:
docs/bench-stream.md; bench/stream_trace.py breaks Blueprint's TTFT down by step.

    .venv/bin/python bench/stream.py [--quick] [--servers daphne,uvicorn] [--transports sse,ws]
                                     [--env DB_POOL_MAX_SIZE=0 …] [--profile]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import stream_client as sc  # noqa: E402
from bench import stream_procs as sp  # noqa: E402
from bench.stream_report import print_report  # noqa: E402

TOKENS, TOKEN_MS = 200, 20
STREAM_S = TOKENS * TOKEN_MS / 1000
GAP_LIMIT_S, TTFT_LIMIT_S = 0.040, 0.500
DB_WRITES_CONSTANT = 10  # begin (3 writes), finish, credit settlement, a heartbeat or two
LOG_DIR = ROOT / "var" / "bench-stream"
PHASES = ("rss", "cpu", "ttft", "concurrency")
RUN_ENDED = re.compile(r"run (\S+) ended (\w+) at \S+ db_writes=(\d+)")


@dataclass(frozen=True)
class Plan:
    ttft_samples: int  # per target and transport, per repetition
    reps: int  # repetitions of the TTFT, CPU and search phases (medians are reported)
    grid: tuple[int, ...]  # concurrency levels the search may probe
    window_s: float  # measurement window of a level, after a ramp of one stream's length
    cpu_concurrency: int
    cpu_streams_per_user: int
    rss_concurrency: int
    search_budget_s: float  # per search; a search out of time reports what it has found


QUICK = Plan(ttft_samples=20, reps=1, grid=(5, 10, 20, 30, 40, 60, 80, 120, 200, 400), window_s=2.0,
             cpu_concurrency=20, cpu_streams_per_user=1, rss_concurrency=100, search_budget_s=40)
FULL = Plan(ttft_samples=30, reps=3,
            grid=(*range(5, 65, 5), 70, 80, 90, 100, 120, 140, 160, 200, 250, 300, 350, 400),
            window_s=5.0, cpu_concurrency=20, cpu_streams_per_user=3, rss_concurrency=100, search_budget_s=150)


def upstream_script() -> Any:
    """200 one-word tokens, 20 ms apart; usage is reported (the SDK asks for it)."""
    from tests.fakes.script import Script

    return Script(text=[f"tok{i} " for i in range(TOKENS)], token_delay=TOKEN_MS / 1000)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


class Bench:
    def __init__(self, args: argparse.Namespace, plan: Plan, children: sp.Children, env: dict[str, str],
                 tenant: sp.Tenant, fake: Any) -> None:
        self.args, self.plan, self.children = args, plan, children
        self.env, self.tenant, self.fake_url, self.fake_pid = env, tenant, fake.base_url, fake.process.pid

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # --- servers -----------------------------------------------------------------------------
    def start(self, kind: sp.ServerKind) -> tuple[sp.Child, sp.Child, sc.Target, sc.Target]:
        env = {**self.env, "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": self.fake_url,
               "PROVIDER_HTTP_TRANSPORT": self.args.transport}
        raw = sp.start_server(self.children, kind, sp.RAW_APP, env, LOG_DIR, "/")
        bp = sp.start_server(self.children, kind, sp.BLUEPRINT_APP, {**env, **self.args.env}, LOG_DIR,
                             "/api/health")
        project = self.tenant.project_id
        raw_target = sc.Target("raw", raw.url, raw.pid, "/", "/")
        bp_target = sc.Target("blueprint", bp.url, bp.pid, f"/api/chat/{project}/messages",
                              f"/api/chat/{project}/ws",
                              {"X-API-Key": self.tenant.api_key, "Content-Type": "application/json"},
                              self.tenant.chat_ids)
        return raw, bp, raw_target, bp_target

    async def warm_up(self, target: sc.Target) -> None:
        """One SSE and one WebSocket stream (checked: every delta, a terminal event), then five."""
        async with sc.new_session() as session:
            ws = await sc.open_ws(session, target)
            results = await asyncio.gather(sc.sse_stream(session, target), sc.ws_stream(ws, target))
            await ws.close()
        for transport, result in zip(("SSE", "WebSocket"), results, strict=True):
            if not result.ok or len(result.times) != TOKENS:
                raise RuntimeError(f"{target.name}: warm-up {transport} stream failed: {result.error} "
                                   f"({len(result.times)} deltas)")
        await sc.run_level(target, "sse", 5, ramp_s=0.5, window_s=0.1, cut=False)

    # --- phases -------------------------------------------------------------------------------
    async def ttft(self, raw: sc.Target, bp: sc.Target) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for transport in self.args.transports:
            reps: list[dict[str, list[float]]] = []
            for _ in range(self.plan.reps):
                reps.append(await sc.sequential_ttft([raw, bp], transport, self.plan.ttft_samples))
            figures: dict[str, Any] = {}
            for q, label in ((0.5, "p50"), (0.95, "p95")):
                raw_q = [pct(r["raw"], q) * 1000 for r in reps]
                bp_q = [pct(r["blueprint"], q) * 1000 for r in reps]
                figures[f"raw_{label}_ms"] = median(raw_q)
                figures[f"blueprint_{label}_ms"] = median(bp_q)
                figures[f"added_{label}_ms"] = median([b - a for a, b in zip(raw_q, bp_q, strict=True)])
                figures[f"reps_{label}_ms"] = {"raw": raw_q, "blueprint": bp_q}
            figures["samples"] = self.plan.ttft_samples * self.plan.reps
            out[transport] = figures
            self.log(f"  TTFT {transport}: {json.dumps(figures)}")
        return out

    async def cpu_round(self, target: sc.Target, bp_log: sp.Child | None) -> dict[str, Any]:
        """A fixed-concurrency SSE round, every stream to its end: CPU, tokens, DB writes."""
        cpu_per_k, writes, statuses = [], [], []
        profile = self.profiler(target, f"stream-{target.name}")
        for _ in range(self.plan.reps):
            offset = bp_log.log_size() if bp_log else 0
            # Users keep starting streams until the window closes: about this many each.
            window = max(0.1, (self.plan.cpu_streams_per_user - 1) * STREAM_S)
            level = await sc.run_level(target, "sse", self.plan.cpu_concurrency, ramp_s=STREAM_S,
                                       window_s=window, cut=False)
            await sc.wait_idle(target.pid)
            cpu_per_k.append(1000 * level.server_cpu_s / max(1, level.tokens) * 1000)
            if bp_log is not None:
                for _run, status, count in RUN_ENDED.findall(bp_log.log_text(offset)):
                    statuses.append(status)
                    writes.append(int(count))
            self.log(f"  CPU {target.name}: {cpu_per_k[-1]:.0f} ms/1k tokens ({level.tokens} tokens, "
                     f"{len(level.results)} streams, errors {len(level.errors())})")
        self.stop_profiler(profile)
        out: dict[str, Any] = {"cpu_ms_per_1k_tokens": median(cpu_per_k)}
        if bp_log is not None:
            out["db_writes"] = {"median": median([float(w) for w in writes]), "max": max(writes, default=0),
                                "runs": len(writes), "completed": statuses.count("completed")}
        return out

    async def rss_round(self, target: sc.Target) -> float:
        """KiB of server RSS per open stream: peak with N streams open minus idle, / N."""
        n = self.plan.rss_concurrency
        level = await sc.run_level(target, "sse", n, ramp_s=1.0, window_s=0.5, cut=False, rss_sample=True)
        await sc.wait_idle(target.pid)
        per_stream = (level.rss_peak - level.rss_idle) / n / 1024
        self.log(f"  RSS {target.name}: idle {level.rss_idle / 2**20:.0f} MiB, peak {level.rss_peak / 2**20:.0f} MiB"
                 f" with {n} streams → {per_stream:.0f} KiB/stream")
        return per_stream

    def verdict(self, level: sc.Level) -> dict[str, Any]:
        gaps, ttfts = level.gaps(), level.ttfts()
        gap95, ttft95 = pct(gaps, 0.95), pct(ttfts, 0.95)
        errors = level.errors()
        ok = (not errors and not level.aborted and len(gaps) >= 10 and bool(ttfts)
              and gap95 <= GAP_LIMIT_S and ttft95 < TTFT_LIMIT_S)
        return {"concurrency": level.concurrency, "pass": ok, "gap_p95_ms": round(gap95 * 1000, 1),
                "ttft_p95_ms": round(ttft95 * 1000, 1) if math.isfinite(ttft95) else None,
                "streams": len(level.results), "errors": len(errors), "first_error": errors[0] if errors else None,
                **{f"{name}_cpu_pct": round(100 * cores) for name, cores in level.window_cpu.items()}}

    async def search(self, target: sc.Target, transport: sc.Transport, hint: int | None) -> dict[str, Any]:
        """Doubling, then binary, search over the grid from ``hint``; assumes pass/fail is monotonic.

        From the start level it goes up to about twice the level while levels pass (down to
        about half while they fail), then bisects between the highest pass and the lowest
        failure.
        """
        grid = [n for n in self.plan.grid if n <= self.args.max_streams]
        lo, hi = -1, len(grid)  # highest index known to pass, lowest known to fail
        probes: list[dict[str, Any]] = []
        mid = hint if hint is not None and 0 <= hint < len(grid) else (len(grid) - 1) // 3
        truncated = False
        deadline = time.monotonic() + (self.args.budget or self.plan.search_budget_s)
        while hi - lo > 1:
            if time.monotonic() > deadline:
                truncated = True
                break
            level = await sc.run_level(target, transport, grid[mid], ramp_s=STREAM_S, window_s=self.plan.window_s,
                                       watch={"fake": self.fake_pid})
            await sc.wait_idle(target.pid)
            probe = self.verdict(level)
            probes.append(probe)
            self.log(f"    {target.name} {transport} {json.dumps(probe)}")
            if probe["pass"]:
                lo = mid
            else:
                hi = mid
            if hi == len(grid):
                mid = max([i for i, n in enumerate(grid) if n <= 2 * grid[lo]] + [lo + 1])
            elif lo < 0:
                mid = min([i for i, n in enumerate(grid) if n >= grid[hi] / 2] + [hi - 1])
            else:
                mid = (lo + hi) // 2
        return {"max_concurrency": grid[lo] if lo >= 0 else 0, "index": lo, "probes": probes,
                "bounded_by_grid": lo == len(grid) - 1, "truncated_by_budget": truncated}

    async def concurrency(self, raw: sc.Target, bp: sc.Target) -> dict[str, Any]:
        """Searches raw then Blueprint, ``reps`` times; a repeat starts where the last ended."""
        out: dict[str, Any] = {}
        grid = [n for n in self.plan.grid if n <= self.args.max_streams]
        for transport in self.args.transports:
            runs: dict[str, list[int]] = {"raw": [], "blueprint": []}
            detail: dict[str, Any] = {}
            hints: dict[str, int | None] = {"raw": None, "blueprint": None}
            for _ in range(self.plan.reps):
                raw_result = await self.search(raw, transport, hints["raw"])
                # Blueprint carries more per stream: start it at ~60 % of the raw relay's level.
                guess = max([i for i, n in enumerate(grid) if n <= 0.6 * raw_result["max_concurrency"]], default=0)
                bp_result = await self.search(bp, transport, hints["blueprint"] if hints["blueprint"] is not None
                                              else guess)
                for name, result in (("raw", raw_result), ("blueprint", bp_result)):
                    runs[name].append(result["max_concurrency"])
                    hints[name] = max(0, result["index"])
                detail = {"raw": raw_result, "blueprint": bp_result}
            raw_max, bp_max = median(runs["raw"]), median(runs["blueprint"])
            out[transport] = {"raw": raw_max, "blueprint": bp_max, "runs": runs,
                              "ratio": round(bp_max / raw_max, 3) if raw_max else None, "last_search": detail}
        return out

    async def run_kind(self, kind: sp.ServerKind) -> dict[str, Any]:
        self.log(f"== {kind}")
        self.kind: str = kind
        raw_child, bp_child, raw, bp = self.start(kind)
        try:
            await asyncio.gather(self.warm_up(raw), self.warm_up(bp))
            await asyncio.gather(sc.wait_idle(raw.pid), sc.wait_idle(bp.pid))
            figures: dict[str, Any] = {"rss_kib_per_stream": {}, "cpu_ms_per_1k_tokens": {}}
            phases = self.args.phases
            if "rss" in phases:
                for target in (raw, bp):
                    figures["rss_kib_per_stream"][target.name] = await self.rss_round(target)
            if "cpu" in phases:
                for target in (raw, bp):
                    result = await self.cpu_round(target, bp_child if target is bp else None)
                    figures["cpu_ms_per_1k_tokens"][target.name] = result["cpu_ms_per_1k_tokens"]
                    if "db_writes" in result:
                        figures["db_writes"] = result["db_writes"]
            if "ttft" in phases:
                profile = self.profiler(bp, "ttft")
                try:
                    figures["ttft"] = await self.ttft(raw, bp)
                finally:
                    self.stop_profiler(profile)
            if "concurrency" in phases:
                figures["concurrency"] = await self.concurrency(raw, bp)
            return figures
        finally:
            self.children.stop(bp_child)
            self.children.stop(raw_child)

    def profiler(self, target: sc.Target, phase: str) -> Any:
        if not self.args.profile:
            return None
        from bench.stream_profile import Recording

        return Recording(target.pid, LOG_DIR / f"profile-{self.kind}-{phase}.txt")

    def stop_profiler(self, recording: Any) -> None:
        if recording is None:
            return
        from bench.stream_profile import summarise

        recording.stop()
        self.log(f"  profile {recording.out.name}:")
        for line in summarise(recording.out, top=15):
            self.log("    " + line)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, coarser levels (a few minutes)")
    parser.add_argument("--servers", default="daphne,uvicorn", help="comma-separated: daphne, uvicorn")
    parser.add_argument("--transports", default="sse,ws", help="comma-separated: sse, ws")
    parser.add_argument("--max-streams", type=int, default=400, help="the highest concurrency level probed")
    parser.add_argument("--transport", choices=("aiohttp", "httpx"), default="aiohttp",
                        help="the SDK's HTTP transport, for Blueprint and the raw relay alike")
    parser.add_argument("--budget", type=float, default=0,
                        help="seconds one concurrency search may take (default: 40 quick, 150 full)")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy the servers during the CPU round and Blueprint during TTFT (needs py-spy)")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment of the Blueprint server, for what-if runs (DB_POOL_MAX_SIZE=0)")
    parser.add_argument("--tokens", type=int, default=TOKENS,
                        help="tokens per stream (default 200; other lengths split per-run from per-token cost)")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="comma-separated subset of " + ", ".join(PHASES) + " (development runs; the "
                             "report then lacks the others)")
    args = parser.parse_args()
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not set(args.phases) <= set(PHASES):
        parser.error("--phases takes " + ", ".join(PHASES))
    args.env = dict(item.split("=", 1) for item in args.env)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    if not set(args.servers) <= {"daphne", "uvicorn"} or not set(args.transports) <= {"sse", "ws"}:
        parser.error("--servers takes daphne/uvicorn, --transports sse/ws")
    args.max_streams = max(5, min(args.max_streams, 400))
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the children


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    with sp.exclusive_run():
        run(args)


def run(args: argparse.Namespace) -> None:
    global TOKENS, STREAM_S
    TOKENS = max(1, args.tokens)
    STREAM_S = TOKENS * TOKEN_MS / 1000
    plan = QUICK if args.quick else FULL
    version = sp.code_version()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for old in LOG_DIR.glob("*"):
        old.unlink()
    started = time.monotonic()
    load_start = os.getloadavg()
    env = sp.base_env()
    children = sp.Children()
    fake: Any = None
    try:
        from tests.fakes.process import SubprocessFake

        print("setting up database blueprint_bench_stream …", file=sys.stderr, flush=True)
        sp.recreate_database()
        sp.migrate(env)
        tenant = sp.seed(env, 8000)
        fake = SubprocessFake("openai", upstream_script())
        bench = Bench(args, plan, children, env, tenant, fake)
        results: dict[str, Any] = {}
        for kind in args.servers:
            results[kind] = asyncio.run(bench.run_kind(kind))
            fake.reset()  # drops the recorded requests (and the script)
            fake.set_script(upstream_script())
    finally:
        children.stop_all()
        if fake is not None:
            fake.close()
    meta = {"mode": "quick" if args.quick else "full", "tokens": TOKENS, "token_ms": TOKEN_MS,
            "cpus": os.cpu_count(), "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in os.getloadavg()], "http_transport": args.transport,
            "elapsed_s": round(time.monotonic() - started), "plan": plan.__dict__,
            "db_writes_target": STREAM_S * 10 + DB_WRITES_CONSTANT, "blueprint_env": args.env,
            "phases": args.phases, **version}
    summary = print_report(results, meta)
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
