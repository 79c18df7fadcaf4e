"""Optional py-spy sampling of a server under test (``bench/stream.py --profile``).

py-spy is not a project dependency: ``.venv/bin/pip install py-spy`` to use this.
"""
from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from bench.stream_procs import ROOT


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


class Recording:
    """``py-spy record --nonblocking`` of one process into a raw file (it is not paused to sample).

    With ``gil`` only the thread holding the GIL is sampled: a thread waiting for the GIL
    would otherwise count as busy and inflate whatever it was about to run.
    """

    def __init__(self, pid: int, out: Path, rate: int = 250, gil: bool = True) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
        self.out = out
        self.process = subprocess.Popen(
            [binary, "record", "-p", str(pid), "-o", str(out), "--format", "raw", "-r", str(rate), "--threads",
             "--nonblocking", *(["--gil"] if gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


IDLE_LEAVES = ("thread.py:81", "selectors.py", "Condition.wait", "Event.wait",
               "Connection.wait (psycopg")  # the last: a DB thread waiting for Postgres's answer


def _is_idle(frames: list[str]) -> bool:
    """Threads parked waiting for work (pool queues, the selector) or for Postgres are not CPU."""
    leaf = frames[-1]
    return any(marker in leaf for marker in IDLE_LEAVES)


# A busy sample goes to the first bucket one of whose markers appears in its stack.
BUCKETS = (
    ("engine DB writes (flush, finish, heartbeat)", ("run_flush", "run_finish", "run_heartbeat", "credit_settle")),
    ("request setup in threads (auth, validation, begin, prompt)", ("thread_handler", "apps/engine/db.py")),
    ("provider: SDK parsing + upstream reads", ("OpenAIProvider", "_deltas (", "openai/", "httpx", "aiohttp/")),
    ("engine: events, subscription, fan-out", ("apps/engine/", "channels/layers", "apps/streaming/bus")),
    ("transport: encode + ASGI send + socket write", ("apps/streaming/", "raw_relay.py", "daphne/", "twisted/",
                                                      "uvicorn/", "websockets/", "channels/", "_sse (", "_ws_relay")),
)


def buckets(raw: Path) -> dict[str, float]:
    """Share of the busy samples per bucket (see ``BUCKETS``); the rest is the event loop itself."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, n in _samples(raw):
        total += n
        stack = ";".join(frames)
        counts[next((name for name, marks in BUCKETS if any(m in stack for m in marks)), "event loop, other")] += n
    return {name: counts[name] / total for name in [*(b[0] for b in BUCKETS), "event loop, other"]} if total else {}


def _samples(raw: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        if frames and not _is_idle(frames):
            out.append((frames, int(count)))
    return out


def summarise(raw: Path, *, top: int = 25) -> list[str]:
    """Inclusive share of the busy samples per frame, our code (apps/, config/) first."""
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, n in _samples(raw):
        total += n
        leaf[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return ["(no busy samples)"]
    root = str(ROOT) + "/"
    ours = [(f, n) for f, n in inclusive.most_common() if "(apps/" in f or "(config/" in f or root in f]
    lines = [f"busy samples: {total}", "buckets:"]
    lines += [f"  {100 * share:5.1f}%  {name}" for name, share in buckets(raw).items()]
    lines.append("our frames (inclusive):")
    lines += [f"  {100 * n / total:5.1f}%  {f.replace(root, '')}" for f, n in ours[:top]]
    lines.append("hottest leaves (self):")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
    return lines
