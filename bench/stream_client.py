"""The streaming benchmark's client: SSE and WebSocket streams over aiohttp, timed per delta.

The client does as little as it can per frame — it counts delta markers in the raw bytes
and never parses JSON — so that its own CPU takes as little as possible from the two
servers it measures (it shares the machine's two cores with them and the fake upstream).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import psutil

Transport = Literal["sse", "ws"]
PROMPT = "Sketch the entities of a small online shop: orders, customers, products."
MODEL = "gpt-4o"
DELTA = b"message_delta\""
TERMINAL = (b"task_complete\"", b"\"error\"")
STREAM_TIMEOUT_S = 60.0
BURST_S = 0.001  # deltas read within 1 ms of each other arrived together


@dataclass
class Target:
    """One server under test: Blueprint's seed-001 endpoints or the raw relay."""

    name: str  # "blueprint" | "raw"
    url: str
    pid: int
    sse_path: str
    ws_path: str
    headers: dict[str, str] = field(default_factory=dict)
    chat_ids: list[str] = field(default_factory=list)
    _chats: Iterator[str] | None = None

    def message(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": PROMPT, "model": MODEL}
        if self.chat_ids:
            if self._chats is None:
                self._chats = itertools.cycle(self.chat_ids)
            body["chatId"] = next(self._chats)
        return body

    def ws_message(self) -> dict[str, Any]:
        return {"type": "message", **self.message()}

    @staticmethod
    def stop_frame(message: dict[str, Any]) -> dict[str, Any]:
        return {"type": "stop", **({"chatId": message["chatId"]} if "chatId" in message else {})}

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + self.ws_path


@dataclass
class StreamResult:
    t_sent: float
    times: list[float] = field(default_factory=list)  # arrival of every delta
    done: bool = False  # the terminal event arrived
    error: str | None = None
    cut: bool = False  # ended by the client at the end of a measurement window

    @property
    def ttft(self) -> float | None:
        return self.times[0] - self.t_sent if self.times else None

    @property
    def ok(self) -> bool:
        return self.done and self.error is None

    def add(self, now: float, count: int) -> None:
        self.times.extend([now] * count)

    def end(self, frames: bytes) -> None:
        if TERMINAL[1] in frames:
            self.error = "error event"
        self.done = True


async def sse_stream(session: aiohttp.ClientSession, target: Target, *, first_only: bool = False,
                     result: StreamResult | None = None) -> StreamResult:
    """POST one message and read its SSE stream to the end (or to the first delta).

    ``result`` (filled in as the stream goes) lets a caller that cancels the stream keep
    what arrived.
    """
    payload = json.dumps(target.message()).encode()
    result = result or StreamResult(t_sent=0.0)
    result.t_sent = time.perf_counter()
    try:
        async with asyncio.timeout(STREAM_TIMEOUT_S):
            async with session.post(target.url + target.sse_path, data=payload, headers=target.headers) as response:
                if response.status != 200:
                    result.error = f"HTTP {response.status}: {(await response.text())[:200]}"
                    return result
                buffer = b""
                async for chunk in response.content.iter_any():
                    now = time.perf_counter()
                    buffer += chunk
                    cut = buffer.rfind(b"\n\n")
                    if cut < 0:
                        continue
                    frames, buffer = buffer[:cut], buffer[cut + 2:]
                    result.add(now, frames.count(DELTA))
                    if first_only and result.times:
                        response.close()  # seed 001: closing the connection cancels the run
                        result.done = True
                        return result
                    if TERMINAL[0] in frames or TERMINAL[1] in frames:
                        result.end(frames)
                if not result.done:
                    result.error = "stream ended without a terminal event"
    except TimeoutError:
        result.error = "timeout"
    except aiohttp.ClientError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def ws_stream(ws: aiohttp.ClientWebSocketResponse, target: Target, message: dict[str, Any] | None = None,
                    *, first_only: bool = False) -> StreamResult:
    """Send one message frame on an open socket and read frames to its terminal event."""
    message = message or target.ws_message()
    result = StreamResult(t_sent=time.perf_counter())
    await ws.send_str(json.dumps(message))
    try:
        async with asyncio.timeout(STREAM_TIMEOUT_S):
            while True:
                frame = await ws.receive()
                now = time.perf_counter()
                if frame.type != aiohttp.WSMsgType.TEXT:
                    result.error = f"websocket {frame.type.name}"
                    return result
                data = frame.data.encode()
                if DELTA in data:
                    result.add(now, 1)
                    if first_only and len(result.times) == 1:
                        await ws.send_str(json.dumps(target.stop_frame(message)))  # then read on to the end
                elif TERMINAL[0] in data or TERMINAL[1] in data:
                    result.end(data)
                    return result
    except TimeoutError:
        result.error = "timeout"
    return result


async def open_ws(session: aiohttp.ClientSession, target: Target) -> aiohttp.ClientWebSocketResponse:
    return await session.ws_connect(target.ws_url, headers=target.headers, autoping=True, heartbeat=None,
                                    max_msg_size=0)


def new_session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_read=30))


# --- a level: N concurrent streams, closed loop ----------------------------------------------


@dataclass
class Level:
    target: str
    transport: Transport
    concurrency: int
    results: list[StreamResult]
    window: tuple[float, float]
    wall_s: float
    server_cpu_s: float
    client_cpu_s: float
    rss_idle: int
    rss_peak: int
    aborted: bool = False
    window_cpu: dict[str, float] = field(default_factory=dict)  # cores used in the window, per process

    def ttfts(self) -> list[float]:
        """TTFT of the streams started in the window (early enough to have had 500 ms).

        A stream cut at the end of the window before its first delta counts as infinite.
        """
        start, end = self.window
        chosen = [r for r in self.results if start <= r.t_sent <= end - 0.5]
        return [r.ttft if r.ttft is not None else math.inf for r in chosen]

    def gaps(self) -> list[float]:
        """Inter-token gaps of the deltas that arrived inside the window.

        A delta's gap is the time since the previous arrival of deltas; deltas that arrive
        together (within ``BURST_S``) share their burst's gap, so a stall followed by a burst
        counts for every token it held back instead of hiding behind zero gaps. A stream cut
        at the end of the window adds the open gap since its last delta.
        """
        start, end = self.window
        out: list[float] = []
        for result in self.results:
            out.extend(gap for t, gap in delta_gaps(result.times) if start <= t <= end)
            if result.cut and result.times and result.times[-1] >= start:
                out.append(end - result.times[-1])
        return out

    def errors(self) -> list[str]:
        return [r.error or "incomplete" for r in self.results if not r.ok and not r.cut]

    @property
    def tokens(self) -> int:
        return sum(len(r.times) for r in self.results)


def delta_gaps(times: list[float]) -> list[tuple[float, float]]:
    """(arrival, gap) per delta after the first; see ``Level.gaps``.

    Deltas in the first delta's burst get their (tiny) distance from it: their wait is TTFT.
    """
    out: list[tuple[float, float]] = []
    if not times:
        return out
    burst_start, gap = times[0], None
    for t in times[1:]:
        if t - burst_start > BURST_S:
            gap, burst_start = t - burst_start, t
        out.append((t, t - times[0] if gap is None else gap))
    return out


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def _one(session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse | None, target: Target,
               closed: asyncio.Event | None) -> StreamResult:
    """One stream; with ``closed``, the stream is cut short when the event is set."""
    message = target.ws_message()
    partial = StreamResult(t_sent=time.perf_counter())
    task = asyncio.ensure_future(ws_stream(ws, target, message) if ws is not None
                                 else sse_stream(session, target, result=partial))
    if closed is None:
        return await task
    waiter = asyncio.ensure_future(closed.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        return task.result()
    if ws is not None:  # a run outlives its socket: stop it, then read on to its terminal event
        await ws.send_str(json.dumps(target.stop_frame(message)))
        result = await task
    else:  # seed 001: closing the connection cancels the run
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        result = partial
    result.cut = True
    return result


async def run_level(target: Target, transport: Transport, concurrency: int, *, ramp_s: float, window_s: float,
                    cut: bool = True, rss_sample: bool = False, watch: dict[str, int] | None = None) -> Level:
    """``concurrency`` users, started evenly over ``ramp_s``, each streaming back to back.

    Users keep starting streams until the window closes, so from ``ramp_s`` on the
    server holds ``concurrency`` streams; statistics come from that window only. With
    ``cut`` the streams still open when the window closes are ended there (SSE: the
    connection closes; WebSocket: a stop frame), else they run to their end.
    """
    server = psutil.Process(target.pid)
    me = psutil.Process()
    results: list[StreamResult] = []
    open_streams = [0]
    t0 = time.perf_counter()
    window = (t0 + ramp_s, t0 + ramp_s + window_s)
    closed = asyncio.Event()
    rss_idle = server.memory_info().rss
    rss_peak = [rss_idle]

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        await asyncio.sleep(ramp_s * index / concurrency)  # the user's place in the ramp
        ws = await open_ws(session, target) if transport == "ws" else None
        try:
            while not closed.is_set():
                open_streams[0] += 1
                try:
                    result = await _one(session, ws, target, closed if cut else None)
                finally:
                    open_streams[0] -= 1
                results.append(result)
                if not result.ok and not result.cut and ws is not None:
                    return
        finally:
            if ws is not None:
                await ws.close()

    async def sampler() -> None:
        while True:
            await asyncio.sleep(0.05)  # a periodic probe
            if open_streams[0] >= concurrency:
                rss_peak[0] = max(rss_peak[0], server.memory_info().rss)

    watched = {"server": server, "client": me, **{name: psutil.Process(pid) for name, pid in (watch or {}).items()}}
    marks: list[dict[str, float]] = []

    def mark() -> None:
        marks.append({name: cpu_seconds(process) for name, process in watched.items()})

    loop = asyncio.get_running_loop()
    loop.call_later(ramp_s, mark)
    loop.call_later(ramp_s + window_s, mark)
    loop.call_later(ramp_s + window_s, closed.set)
    server_cpu, client_cpu = cpu_seconds(server), cpu_seconds(me)
    aborted = False
    async with new_session() as session:
        users = [asyncio.create_task(user(i, session)) for i in range(concurrency)]
        probe = asyncio.create_task(sampler()) if rss_sample else None
        done, pending = await asyncio.wait(users, timeout=ramp_s + window_s + STREAM_TIMEOUT_S + 10)
        for task in pending:
            aborted = True
            task.cancel()
        for task in done:
            if task.exception() is not None:
                results.append(StreamResult(t_sent=window[0], error=repr(task.exception())))
        if probe is not None:
            probe.cancel()
        await asyncio.gather(*pending, *([probe] if probe else []), return_exceptions=True)
    return Level(target.name, transport, concurrency, results, window, time.perf_counter() - t0,
                 cpu_seconds(server) - server_cpu, cpu_seconds(me) - client_cpu, rss_idle, rss_peak[0], aborted,
                 {name: (marks[1][name] - marks[0][name]) / window_s for name in watched} if len(marks) == 2 else {})


async def wait_idle(pid: int, *, below: float = 0.05, limit_s: float = 20.0) -> None:
    """Until the server's CPU use over 0.5 s falls below ``below`` of a core (bounded)."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(process)
        await asyncio.sleep(0.5)  # a measurement interval
        if cpu_seconds(process) - before < below * 0.5:
            return


async def sequential_ttft(targets: list[Target], transport: Transport, samples: int,
                          settle_s: float = 0.3) -> dict[str, list[float]]:
    """Single streams one at a time, alternating between the targets; TTFT of each.

    Each stream is ended after its first delta (SSE: the connection is closed, which
    cancels the run; WebSocket: a stop frame), then the servers settle before the next.
    """
    out: dict[str, list[float]] = {t.name: [] for t in targets}
    async with new_session() as session:
        sockets = {t.name: await open_ws(session, t) for t in targets} if transport == "ws" else {}
        try:
            for _ in range(samples):
                for target in targets:
                    if transport == "ws":
                        result = await ws_stream(sockets[target.name], target, first_only=True)
                    else:
                        result = await sse_stream(session, target, first_only=True)
                    if result.ttft is None:
                        raise RuntimeError(f"{target.name} {transport}: no delta ({result.error})")
                    out[target.name].append(result.ttft)
                    await asyncio.sleep(settle_s)  # let the stopped run finish its writes
        finally:
            for ws in sockets.values():
                await ws.close()
    return out
