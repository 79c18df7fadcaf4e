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
    """``py-spy record`` of one process (all threads, on-CPU samples) into a raw file."""

    def __init__(self, pid: int, out: Path, rate: int = 250) -> None:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("py-spy is not installed (.venv/bin/pip install py-spy)")
        self.out = out
        self.process = subprocess.Popen(
            [binary, "record", "-p", str(pid), "-o", str(out), "--format", "raw", "-r", str(rate), "--threads"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _is_idle(frames: list[str]) -> bool:
    """Threads parked waiting for work (pool queues, the selector) are not CPU."""
    leaf = frames[-1]
    return any(marker in leaf for marker in ("thread.py:81", "selectors.py", "Condition.wait", "Event.wait"))


def summarise(raw: Path, *, top: int = 25) -> list[str]:
    """Inclusive share of the busy samples per frame, our code (apps/, config/) first."""
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0
    if not raw.exists():
        return [f"(no profile at {raw})"]
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("thread (", "process "))]
        if not frames or _is_idle(frames):
            continue
        n = int(count)
        total += n
        leaf[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return ["(no busy samples)"]
    root = str(ROOT) + "/"
    ours = [(f, n) for f, n in inclusive.most_common() if "(apps/" in f or "(config/" in f or root in f]
    lines = [f"busy samples: {total}", "our frames (inclusive):"]
    lines += [f"  {100 * n / total:5.1f}%  {f.replace(root, '')}" for f, n in ours[:top]]
    lines.append("hottest leaves (self):")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
    return lines
