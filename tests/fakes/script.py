"""Scripts (what a fake upstream answers) and recordings (what it was asked)."""
from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

_WORDS = re.compile(r"\s*\S+\s*|\s+")


def split_tokens(text: str) -> list[str]:
    """Split text into word-sized chunks whose concatenation is the text again."""
    return _WORDS.findall(text)


@dataclass
class ToolCallScript:
    name: str
    arguments: str  # the exact JSON text streamed, in fragments of ``fragment_size`` characters
    id: str = ""
    fragment_size: int = 5

    def fragments(self) -> list[str]:
        size = max(1, self.fragment_size)
        return [self.arguments[i:i + size] for i in range(0, len(self.arguments), size)]


@dataclass
class Script:
    """How the fake answers one request.

    Deltas are streamed in this order: reasoning chunks, text chunks, then each tool call
    (a start followed by its argument fragments). ``*_after`` faults count these deltas.
    """

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallScript] = field(default_factory=list)
    usage: tuple[int, int] | None = None  # (input, output); estimated when None
    token_delay: float = 0.0  # seconds between streamed deltas
    request_id: str | None = None
    # A fault before the first token: reply with this status and an error body.
    status: int | None = None
    retry_after: str | None = None  # the Retry-After header value (seconds or an HTTP date)
    error_type: str | None = None  # the provider's error type, in the body or the error event
    error_message: str = "fake upstream fault"
    # Faults after this many deltas.
    error_after: int | None = None  # an error event / error chunk mid-stream
    drop_after: int | None = None  # the connection is cut without finishing the body
    stall_after: int | None = None  # nothing more is sent for ``stall_seconds``
    end_after: int | None = None  # the body ends cleanly here, without a finish or [DONE]
    stall_seconds: float = 30.0
    finish_reason: str | None = None  # defaults to the provider's stop / tool-use reason
    reasoning_field: str = "reasoning_content"  # OpenAI-compatible delta field for reasoning

    @classmethod
    def from_text(cls, text: str, **kwargs: Any) -> Script:
        return cls(text=split_tokens(text), **kwargs)

    @classmethod
    def error(cls, status: int, **kwargs: Any) -> Script:
        return cls(status=status, **kwargs)

    def delta_count(self) -> int:
        return (len(self.reasoning) + len(self.text)
                + sum(1 + len(call.fragments()) for call in self.tool_calls))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Script:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        values["tool_calls"] = [ToolCallScript(**call) for call in values.get("tool_calls", [])]
        if values.get("usage") is not None:
            values["usage"] = tuple(values["usage"])
        return cls(**values)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any
    disconnected: bool = False  # the client went away before the response ended
    completed: bool = False  # the whole response was sent
    received_at: float = field(default_factory=time.time)  # when the request arrived (epoch seconds)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FakeState:
    """Scripts and recordings, shared safely between the server loop and test threads."""

    def __init__(self, default: Script) -> None:
        self._cond = threading.Condition()
        self._default = default
        self._queue: deque[Script] = deque()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0

    def set_script(self, script: Script) -> None:
        with self._cond:
            self._default = script

    def enqueue(self, script: Script, times: int = 1) -> None:
        with self._cond:
            self._queue.extend([script] * times)

    def next_script(self) -> Script:
        with self._cond:
            return self._queue.popleft() if self._queue else self._default

    def record(self, request: RecordedRequest) -> RecordedRequest:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
        return request

    def mark(self, request: RecordedRequest, outcome: Literal["completed", "disconnected"]) -> None:
        with self._cond:
            if outcome == "completed":
                request.completed = True
            elif not request.disconnected:
                request.disconnected = True
                self.disconnects += 1
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(predicate, timeout=timeout))

    def reset(self, default: Script) -> None:
        with self._cond:
            self._default = default
            self._queue.clear()
            self.requests.clear()
            self.disconnects = 0
