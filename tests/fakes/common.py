"""The base of the fake upstreams: a real aiohttp server on 127.0.0.1 with scripted faults.

A fake speaks the wire format of one provider. Each request is answered from a
:class:`~tests.fakes.script.Script` (text, reasoning, tool calls, usage, pacing, faults) and
recorded as a :class:`~tests.fakes.script.RecordedRequest`, including whether the client went
away before the end of the response.

Run a fake
  * in the current event loop: ``async with FakeOpenAI() as fake: ...``;
  * in a background thread with its own loop (works from sync tests, async tests and for a
    Django server in another process): ``with FakeOpenAI() as fake: ...`` or
    ``fake.start_in_thread()`` / ``fake.stop_thread()``;
  * in a subprocess (keeps its CPU out of the caller's measurements):
    ``tests.fakes.process.SubprocessFake("openai")``, scripted over ``/_fake/`` endpoints.
"""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from tests.fakes.script import FakeState, RecordedRequest, Script

LOOPBACK = "127.0.0.1"


class _StreamEnded(Exception):
    """A scripted fault ended the response early, on purpose."""


class FakeUpstream:
    """Base of the fakes: the aiohttp app, recordings, and the run modes."""

    kind = "base"
    api_prefix = ""  # what the SDK's base_url needs after host:port

    def __init__(self, script: Script | None = None, *, api_key: str | None = None) -> None:
        self.state = FakeState(script or self.default_script())
        self.api_key = api_key  # when set, other keys get a 401
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # --- scripting and inspection (safe from any thread) ---------------------------

    @staticmethod
    def default_script() -> Script:
        return Script.from_text("Hello from the fake upstream.")

    def set_script(self, script: Script) -> None:
        self.state.set_script(script)

    def enqueue(self, script: Script, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``script``, then fall back to the default."""
        self.state.enqueue(script, times)

    def reset(self) -> None:
        self.state.reset(self.default_script())

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state._cond:
            return list(self.state.requests)

    @property
    def last_request(self) -> RecordedRequest:
        return self.requests[-1]

    @property
    def disconnects(self) -> int:
        return self.state.disconnects

    def wait_for_disconnect(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until ``count`` responses were abandoned by their clients (or time out)."""
        return self.state.wait_for(lambda: self.state.disconnects >= count, timeout)

    async def await_disconnect(self, count: int = 1, timeout: float = 5.0) -> bool:
        return await asyncio.to_thread(self.wait_for_disconnect, count, timeout)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        return self.state.wait_for(lambda: len(self.state.requests) >= count, timeout)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def base_url(self) -> str:
        """The value to give the SDK as ``base_url``."""
        return self.url + self.api_prefix

    # --- the app ---------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        self.add_routes(app)
        app.router.add_post("/_fake/script", self._control_script)
        app.router.add_post("/_fake/enqueue", self._control_enqueue)
        app.router.add_post("/_fake/reset", self._control_reset)
        app.router.add_get("/_fake/requests", self._control_requests)
        app.router.add_get("/_fake/disconnects", self._control_disconnects)
        return app

    async def _control_script(self, request: web.Request) -> web.Response:
        self.set_script(Script.from_dict((await request.json())["script"]))
        return web.json_response({"ok": True})

    async def _control_enqueue(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.enqueue(Script.from_dict(data["script"]), int(data.get("times", 1)))
        return web.json_response({"ok": True})

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r.to_dict() for r in self.requests if not r.path.startswith("/_fake/")])

    async def _control_disconnects(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", "1"))
        timeout = min(float(request.query.get("timeout", "5")), 60.0)
        ok = await asyncio.to_thread(self.wait_for_disconnect, count, timeout)
        return web.json_response({"ok": ok, "disconnects": self.disconnects})

    async def record(self, request: web.Request) -> RecordedRequest:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {key.lower(): value for key, value in request.headers.items()}
        return self.state.record(RecordedRequest(request.method, request.path, headers, body))

    async def stream_events(self, request: web.Request, record: RecordedRequest, script: Script,
                            head: dict[str, str], frames: Iterator[tuple[bytes, bool]]) -> web.StreamResponse:
        """Send ``frames`` (bytes, counts-as-a-delta) applying the script's pacing and faults."""
        response = web.StreamResponse(status=200, headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache", **head})
        await response.prepare(request)
        deltas = 0
        try:
            for frame, is_delta in frames:
                if is_delta:
                    await self._before_delta(request, script, deltas, response)
                    deltas += 1
                await response.write(frame)
                if is_delta and script.token_delay:
                    await asyncio.sleep(script.token_delay)
            await response.write_eof()
        except _StreamEnded:
            return response
        except (asyncio.CancelledError, ConnectionError):
            if not self._closing:
                self.state.mark(record, "disconnected")
            raise
        self.state.mark(record, "completed")
        return response

    async def _before_delta(self, request: web.Request, script: Script, sent: int,
                            response: web.StreamResponse) -> None:
        if script.stall_after is not None and sent == script.stall_after:
            await asyncio.sleep(script.stall_seconds)
        if script.drop_after is not None and sent == script.drop_after:
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise _StreamEnded
        if script.end_after is not None and sent == script.end_after:
            await response.write_eof()
            raise _StreamEnded
        if script.error_after is not None and sent == script.error_after:
            await response.write(self.error_frame(script))
            await response.write_eof()
            raise _StreamEnded

    def error_frame(self, script: Script) -> bytes:
        raise NotImplementedError

    # --- run modes -------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        app = self.build_app()
        self._closing = False
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0,
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeUpstream:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> FakeUpstream:
        """Serve from a daemon thread with its own event loop; returns once listening."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"fake-{self.kind}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"fake {self.kind} server did not start within {timeout}s")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        loop, thread = self._thread_loop, self._thread
        if loop is None or thread is None:
            return
        self._closing = True
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = self._thread_loop = None

    def __enter__(self) -> FakeUpstream:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()


def sse(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def estimate_input_tokens(body: Any) -> int:
    """A deterministic stand-in for prompt tokens: whitespace-separated words of the body."""
    return max(1, len(json.dumps(body.get("messages", []) if isinstance(body, dict) else body).split()))
