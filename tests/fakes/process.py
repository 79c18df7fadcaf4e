"""Fake upstreams in their own process, scripted over HTTP.

``python -m tests.fakes.openai_server`` (or ``anthropic_server``) serves until its stdin
closes; :class:`SubprocessFake` starts one and offers the same scripting and inspection API
as an in-process fake, through the control endpoints under ``/_fake/``. Use it where the
fake's CPU must not count against the process under measurement (benchmarks).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import urllib.request
from typing import Any, Literal

from tests.fakes.common import FakeUpstream
from tests.fakes.script import RecordedRequest, Script


def serve_forever(fake: FakeUpstream, port: int = 0) -> None:
    """Entry point of ``python -m tests.fakes.<kind>_server``: serve until stdin closes or SIGTERM."""

    async def main() -> None:
        await fake.start(port)
        print(f"LISTENING {fake.url}", flush=True)
        loop = asyncio.get_running_loop()
        stdin_closed = loop.run_in_executor(None, sys.stdin.read)
        try:
            await stdin_closed
        finally:
            await fake.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


class SubprocessFake:
    """A fake server in a child process, scripted over HTTP (the same API as an in-process fake)."""

    def __init__(self, kind: Literal["openai", "anthropic"], script: Script | None = None,
                 *, args: list[str] | None = None, start_timeout: float = 20.0) -> None:
        self.kind = kind
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"tests.fakes.{kind}_server", *(args or [])], cwd=root,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self._read_ready_line(start_timeout)
        self.api_prefix = "/v1" if kind == "openai" else ""
        if script is not None:
            self.set_script(script)

    def _read_ready_line(self, timeout: float) -> str:
        found: list[str] = []
        stdout = self.process.stdout
        assert stdout is not None

        def read() -> None:
            found.append(stdout.readline())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        line = found[0] if found else ""
        if not line.startswith("LISTENING "):
            self.close()
            raise RuntimeError(f"fake {self.kind} subprocess did not start: {line!r}")
        return line.split(" ", 1)[1].strip()

    @property
    def base_url(self) -> str:
        return self.url + self.api_prefix

    def _call(self, method: str, path: str, payload: Any = None, timeout: float = 10.0) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def set_script(self, script: Script) -> None:
        self._call("POST", "/_fake/script", {"script": script.to_dict()})

    def enqueue(self, script: Script, times: int = 1) -> None:
        self._call("POST", "/_fake/enqueue", {"script": script.to_dict(), "times": times})

    def reset(self) -> None:
        self._call("POST", "/_fake/reset", {})

    @property
    def requests(self) -> list[RecordedRequest]:
        return [RecordedRequest(**item) for item in self._call("GET", "/_fake/requests")]

    def wait_for_disconnect(self, count: int = 1, timeout: float = 5.0) -> bool:
        result = self._call("GET", f"/_fake/disconnects?count={count}&timeout={timeout}",
                            timeout=timeout + 5)
        return bool(result["ok"])

    def close(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                self.process.wait(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SubprocessFake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cli_main(fake_class: type[FakeUpstream], description: str) -> None:
    """``python -m tests.fakes.<kind>_server [--port N] [--tokens N --delay-ms MS]``."""
    import argparse

    from tests.fakes.script import Script

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=0, help="default script: this many one-word tokens")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="default script: delay per token")
    args = parser.parse_args()
    script = None
    if args.tokens:
        script = Script(text=[f"tok{i} " for i in range(args.tokens)], token_delay=args.delay_ms / 1000)
    serve_forever(fake_class(script), args.port)
