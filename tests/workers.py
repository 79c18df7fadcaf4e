"""ASGI worker processes for tests: daphne on a free loopback port, waited for, stopped."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Worker:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path | None = None  # its stderr, when kept

    def log_tail(self, lines: int = 60) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn_worker(name: str, env: dict[str, str], log: Path | None = None) -> Worker:
    """Start daphne on a free port; its stderr goes to ``log`` when given."""
    port = free_port()
    with open(log, "wb") if log is not None else open(os.devnull, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )
    return Worker(name, f"http://127.0.0.1:{port}", process, log)


async def wait_healthy(session: aiohttp.ClientSession, worker: Worker, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while True:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited with {worker.process.returncode}")
            try:
                async with session.get(f"{worker.url}/api/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)  # polling until the server listens, with a deadline


def stop_workers(workers: list[Worker]) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.terminate()
    for worker in workers:
        try:
            worker.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.process.kill()


@pytest.fixture
def fake_upstream() -> Iterator[FakeOpenAI]:
    """A fake OpenAI upstream in a thread of this process, reachable by worker subprocesses."""
    fake = FakeOpenAI()
    fake.start_in_thread()
    try:
        yield fake
    finally:
        fake.stop_thread()
