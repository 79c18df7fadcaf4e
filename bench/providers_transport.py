"""CPU per relayed token: the OpenAI SDK on its aiohttp transport vs its default httpx transport.

The fake OpenAI upstream runs in a child process (its CPU is not counted) and streams
``--tokens`` one-word chunks per response, ``--delay-ms`` apart, to ``--streams`` concurrent
requests — the delay keeps each token in its own TCP read, as with a real model. This
process streams them through ``OpenAIProvider`` (the SDK plus our event normalisation) and
measures its own CPU time (``time.process_time``) per 1,000 tokens; each transport runs
``--runs`` times after a warm-up, alternating, and the median is reported.

    .venv/bin/python bench/providers_transport.py [--quick]

Prints a table and, as the last line, one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.providers.base import ChatMessage, ProviderRequest, TextDelta  # noqa: E402
from apps.providers.openai_provider import OpenAIProvider, Transport  # noqa: E402
from tests.fakes.process import SubprocessFake  # noqa: E402

TRANSPORTS: tuple[Transport, ...] = ("aiohttp", "httpx")


async def one_run(provider: OpenAIProvider, streams: int, tokens: int) -> tuple[float, float, int]:
    """(cpu seconds, wall seconds, tokens relayed) for ``streams`` concurrent responses."""
    request = ProviderRequest(model="bench", messages=[ChatMessage(role="user", content="go")])

    async def relay() -> int:
        count = 0
        async for event in provider.stream(request):
            if isinstance(event, TextDelta):
                count += 1
        return count

    cpu, wall = time.process_time(), time.perf_counter()
    counts = await asyncio.gather(*(relay() for _ in range(streams)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    relayed = sum(counts)
    if relayed != streams * tokens:
        raise RuntimeError(f"expected {streams * tokens} tokens, relayed {relayed}")
    return cpu, wall, relayed


async def measure(base_url: str, *, streams: int, tokens: int, runs: int) -> dict[str, list[tuple[float, float]]]:
    providers = {t: OpenAIProvider(api_key="bench", base_url=base_url, transport=t) for t in TRANSPORTS}
    results: dict[str, list[tuple[float, float]]] = {t: [] for t in TRANSPORTS}
    try:
        for transport in TRANSPORTS:  # warm-up: imports, connection pools
            await one_run(providers[transport], streams, tokens)
        for _ in range(runs):
            for transport in TRANSPORTS:
                cpu, wall, relayed = await one_run(providers[transport], streams, tokens)
                results[transport].append((cpu * 1000 / (relayed / 1000), wall))
    finally:
        for provider in providers.values():
            await provider.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=50, help="concurrent responses per run")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per response")
    parser.add_argument("--delay-ms", type=float, default=5.0, help="upstream delay between tokens")
    parser.add_argument("--runs", type=int, default=7, help="measured runs per transport")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs

    with SubprocessFake("openai", args=["--tokens", str(args.tokens), "--delay-ms", str(args.delay_ms)]) as fake:
        results = asyncio.run(measure(fake.base_url, streams=args.streams, tokens=args.tokens, runs=runs))

    medians = {t: statistics.median(cpu for cpu, _ in results[t]) for t in TRANSPORTS}
    print(f"{args.streams} concurrent streams x {args.tokens} tokens, {args.delay_ms:g} ms apart; "
          f"median of {runs} runs")
    print(f"{'transport':<10} {'CPU ms / 1k tokens':>19} {'min':>8} {'max':>8} {'wall s / run':>13}")
    for transport in TRANSPORTS:
        cpus = [cpu for cpu, _ in results[transport]]
        wall = statistics.median(w for _, w in results[transport])
        print(f"{transport:<10} {medians[transport]:>19.1f} {min(cpus):>8.1f} {max(cpus):>8.1f} {wall:>13.2f}")
    ratio = medians["httpx"] / medians["aiohttp"] if medians["aiohttp"] else float("nan")
    print(f"httpx / aiohttp CPU ratio: {ratio:.2f}")
    print(json.dumps({"cpu_ms_per_1k_tokens_aiohttp": round(medians["aiohttp"], 2),
                      "cpu_ms_per_1k_tokens_httpx": round(medians["httpx"], 2),
                      "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    main()
