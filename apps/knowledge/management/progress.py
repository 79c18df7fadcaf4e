"""A plain progress bar on stderr for the knowledge management commands."""
from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import OutputWrapper


class ProgressBar:
    def __init__(self, total: int, *, label: str = "", width: int = 30, stream: Any = None) -> None:
        self.total = max(total, 0)
        self.label = label
        self.width = width
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line_at = 0.0
        self._last_step = -1

    def advance(self, note: str = "") -> None:
        self.done += 1
        self._draw(note)

    def _draw(self, note: str) -> None:
        fraction = self.done / self.total if self.total else 1.0
        filled = round(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.started
        line = (f"{self.label}[{bar}] {self.done}/{self.total} {fraction * 100:5.1f}% "
                f"{elapsed:6.1f}s {note[-50:]}")
        if self._interactive:
            self._write("\r" + line.ljust(110))
        else:
            # Logs get a line per 5 % (or every 2 s), not one per file.
            step = int(fraction * 20)
            if step == self._last_step and self.done != self.total and elapsed - self._last_line_at < 2:
                return
            self._last_step, self._last_line_at = step, elapsed
            self._write(line + "\n")
        self.stream.flush()

    def _write(self, text: str) -> None:
        if isinstance(self.stream, OutputWrapper):  # a command's stderr: no automatic newline
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)

    def close(self) -> None:
        if self._interactive:
            self._write("\n")
            self.stream.flush()
