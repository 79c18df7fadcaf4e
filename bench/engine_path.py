#!/usr/bin/env python
"""What the engine adds per token, without network, database or server: a fake provider's
text deltas through ``_stream_round`` → ``ActiveRun.emit`` → a subscription → the SSE pump
(writing to a no-op), against the same provider loop alone. Same process, same run.

    .venv/bin/python bench/engine_path.py [--tokens 20000] [--repeats 5]

Prints the median µs per token of both and the difference (docs/bench-stream.md).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["ENGINE_FLUSH_INTERVAL_MS"] = "100000000"  # no batch is written during a round

import django

django.setup()

from apps.engine import events as ev  # noqa: E402
from apps.engine import runner  # noqa: E402
from apps.engine.runtime import ActiveRun, get_runtime  # noqa: E402
from apps.engine.subscription import Subscription  # noqa: E402
from apps.providers import base as pb  # noqa: E402
from apps.streaming.dialects.native import encode_sse  # noqa: E402
from apps.streaming.http import pump_events  # noqa: E402


class Provider:
    name = "bench"

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens

    async def stream(self, request: Any) -> Any:
        for i in range(self.tokens):
            yield pb.TextDelta(text=f"tok{i} ")
            await asyncio.sleep(0)  # one loop turn per token, as a network read would
        yield pb.Finish(reason="stop")


class NullCall:
    writes = 0

    async def write(self, data: bytes) -> None:
        self.writes += 1


async def engine_round(tokens: int) -> float:
    active = ActiveRun(run_id="bench-run", chat_id="bench-chat", message_id="bench-message", runtime=get_runtime())
    active.record_started(ev.envelope(seq=1, run_id=active.run_id, chat_id=active.chat_id, type=ev.RUN_STARTED,
                                      payload={}))
    sub = Subscription(active.run_id, 0, poll_s=1.0, on_close=lambda _s: None)
    sub.local = active
    sub.preload(active.events_after(0))
    active.subscribers.add(sub)
    call = NullCall()
    pump = asyncio.create_task(pump_events(call, sub, encode_sse))  # type: ignore[arg-type]
    ctx = runner.RunContext(prompt_input=None, model_info=None, provider=Provider(tokens),  # type: ignore[arg-type]
                            workspace_id="bench", reserved_credit=0)  # type: ignore[arg-type]
    started = time.process_time()
    await runner._stream_round(active, ctx, pb.ProviderRequest(model="bench", messages=[]), runner._Progress(), None)
    active.release(active.emit(ev.TASK_COMPLETE, {"status": "completed"}, deliver=False))
    await pump
    elapsed = time.process_time() - started
    sub.close()
    if call.writes < tokens:
        raise RuntimeError(f"the pump wrote {call.writes} times for {tokens} tokens")
    return elapsed / tokens * 1e6


async def provider_round(tokens: int) -> float:
    started = time.process_time()
    async for _event in Provider(tokens).stream(None):
        pass
    return (time.process_time() - started) / tokens * 1e6


async def main(tokens: int, repeats: int) -> None:
    engine, bare = [], []
    for _ in range(repeats):
        engine.append(await engine_round(tokens))
        bare.append(await provider_round(tokens))
    e, b = statistics.median(engine), statistics.median(bare)
    print(f"engine path {e:.1f} µs/token, provider loop alone {b:.1f} µs/token: the engine adds {e - b:.1f} µs/token "
          f"(median of {repeats} × {tokens} tokens)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.repeats))
