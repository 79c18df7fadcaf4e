"""Processes of the streaming benchmark: the database, the fake upstream, the ASGI servers.

Every child runs in its own process group and is stopped (SIGTERM, then SIGKILL) by
:class:`Children` — also when the benchmark fails or is interrupted.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DATABASE = "blueprint_bench_stream"
LOOPBACK = "127.0.0.1"
ServerKind = Literal["daphne", "uvicorn"]
BLUEPRINT_APP = "config.asgi:application"
RAW_APP = "bench.raw_relay:app"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    url: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.alive():
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_text(self, start: int = 0) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as handle:
            handle.seek(start)
            return handle.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path and self.log_path.exists() else 0


@dataclass
class Children:
    """Owns every child process; ``stop_all`` is safe to call more than once."""

    items: list[Child] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str], log_path: Path | None) -> Child:
        log: IO[bytes] | int = subprocess.DEVNULL
        if log_path is not None:
            log = log_path.open("ab")
        try:
            process = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        finally:
            if not isinstance(log, int):
                log.close()  # the child keeps its own descriptor
        child = Child(name, process, log_path)
        self.items.append(child)
        return child

    def stop(self, child: Child) -> None:
        child.stop()
        if child in self.items:
            self.items.remove(child)

    def stop_all(self) -> None:
        for child in reversed(self.items):
            child.stop()
        self.items.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def base_env() -> dict[str, str]:
    """The environment of every Django process: a dedicated database, no Redis, no real keys."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "EMBEDDED_PG_DATABASE": DATABASE,
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    })
    return env


@contextlib.contextmanager
def exclusive_run() -> Iterator[None]:
    """One streaming benchmark at a time: a second one would drop the database under the first."""
    path = ROOT / "var" / "bench-stream.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise SystemExit(f"another streaming benchmark is running (pid {handle.read().strip() or '?'}); "
                             f"it owns the database {DATABASE} — wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def code_version() -> dict[str, object]:
    """The commit measured, and whether the application code differed from it."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD") or None,
            "uncommitted_changes": bool(git("status", "--porcelain", "--", "apps", "config"))}


# --- the database ------------------------------------------------------------------------


def recreate_database() -> None:
    """Drop the benchmark's database on the embedded server; ``migrate`` creates it again."""
    import psycopg
    from psycopg import sql

    sys.path.insert(0, str(ROOT))
    from config.embedded_db import ensure_running

    data = os.environ.get("EMBEDDED_PG_DATA", str(ROOT / "var" / "pgdata"))
    params = ensure_running(data, database="postgres")
    with psycopg.connect(host=params["host"], port=params["port"], user=params["user"], dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Tenant:
    api_key: str
    project_id: str
    chat_ids: list[str]


def seed(env: dict[str, str], chats: int) -> Tenant:
    """An API key, a project and ``chats`` empty chats (``bench/stream_seed.py``)."""
    out = subprocess.run([PYTHON, str(ROOT / "bench" / "stream_seed.py"), str(chats)], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return Tenant(data["apiKey"], data["projectId"], data["chatIds"])


# --- servers -----------------------------------------------------------------------------


def server_argv(kind: ServerKind, app: str, port: int) -> list[str]:
    if kind == "daphne":
        return [PYTHON, "-m", "daphne", "-b", LOOPBACK, "-p", str(port), "--access-log", os.devnull, app]
    # auto picks h11 (no httptools here), asyncio (no uvloop) and websockets-sansio.
    return [PYTHON, "-m", "uvicorn", "--host", LOOPBACK, "--port", str(port), "--lifespan", "off",
            "--no-access-log", "--log-level", "warning", app]


def start_server(children: Children, kind: ServerKind, app: str, env: dict[str, str], log_dir: Path,
                 health_path: str, timeout: float = 90.0) -> Child:
    port = free_port()
    label = "blueprint" if app == BLUEPRINT_APP else "raw"
    child = children.spawn(f"{label}-{kind}", server_argv(kind, app, port), env, log_dir / f"{label}-{kind}.log")
    child.url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited: {child.log_text()[-2000:]}")
        try:
            with urllib.request.urlopen(child.url + health_path, timeout=2) as response:
                if response.status == 200:
                    return child
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} did not answer {health_path} within {timeout:g}s")
        time.sleep(0.2)  # polling until the server listens, bounded by the deadline
