"""The provider contract: every provider turns its SDK stream into these events.

This module imports no SDK. Concrete providers live in sibling modules and are
looked up lazily through ``apps.providers.registry``.
"""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # the JSON text of the arguments, as the model produced it


# Lines the engine adds to a user turn's text to describe its attachments start with this; a
# provider that reads the user's own words (the offline one) leaves them out.
ATTACHMENT_NOTE_PREFIX = "[Attached"


@dataclass(frozen=True)
class ImagePart:
    """An image a user turn carries: PNG, JPEG, GIF or WebP, type and size read from its bytes."""

    media_type: str  # image/png | image/jpeg | image/gif | image/webp
    data: bytes = field(repr=False)
    width: int = 0
    height: int = 0
    name: str = ""

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"


@dataclass
class ChatMessage:
    role: Role
    content: str = ""
    # assistant turns that called tools
    tool_calls: list[ToolCall] = field(default_factory=list)
    # tool turns: the id of the call this is the result of
    tool_call_id: str | None = None
    name: str | None = None
    # user turns: images sent to the model as images (providers that cannot take them say so)
    images: tuple[ImagePart, ...] = ()


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments


@dataclass
class ProviderRequest:
    model: str  # the upstream model id (registry already resolved the public name)
    messages: list[ChatMessage]
    system: str = ""
    tools: list[ToolSpec] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    reasoning: bool = False  # ask for extended thinking where the provider has it
    # Structured extras the prompt also carries as text. Real providers ignore it;
    # the offline provider reads it (e.g. "domain_model", "sources", "doc_type",
    # "template", "documents", "project_name").
    context: dict[str, Any] = field(default_factory=dict)
    # A client's tool_choice, in OpenAI's spelling ("auto" | "none" | "required" |
    # {"type": "function", "function": {"name": ...}}); None leaves the provider's default.
    tool_choice: Any = None


# --- normalised stream events -------------------------------------------------


@dataclass
class TextDelta:
    text: str
    kind: Literal["text"] = "text"


@dataclass
class ReasoningDelta:
    text: str
    kind: Literal["reasoning"] = "reasoning"


@dataclass
class ToolCallStart:
    id: str
    name: str
    kind: Literal["tool_start"] = "tool_start"


@dataclass
class ToolCallDelta:
    id: str
    arguments_delta: str  # a fragment of the arguments' JSON text
    kind: Literal["tool_delta"] = "tool_delta"


@dataclass
class ToolCallEnd:
    id: str
    kind: Literal["tool_end"] = "tool_end"


@dataclass
class Usage:
    input_tokens: int
    output_tokens: int
    kind: Literal["usage"] = "usage"


@dataclass
class StreamMeta:
    """Upstream request id and similar facts, as soon as they are known."""

    request_id: str | None = None
    kind: Literal["meta"] = "meta"


@dataclass
class Finish:
    reason: str  # "stop" | "tool_calls" | "length" | provider-specific
    kind: Literal["finish"] = "finish"


ProviderEvent = (
    TextDelta | ReasoningDelta | ToolCallStart | ToolCallDelta | ToolCallEnd | Usage | StreamMeta | Finish
)


class ProviderError(Exception):
    """A provider fault, classified.

    Attributes:
        code: stable machine code: ``rate_limited`` | ``upstream_unavailable`` |
            ``upstream_error`` | ``connection_error`` | ``authentication_failed`` |
            ``bad_request`` | ``timeout``.
        retryable: a transient fault (a retry may succeed).
        retry_after: seconds the upstream asked us to wait (429 Retry-After), if any.
        status: the HTTP status, if any.
    """

    def __init__(self, message: str, *, code: str, retryable: bool, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class Provider(Protocol):
    name: str

    def stream(self, request: ProviderRequest) -> AsyncIterator[ProviderEvent]:
        """Stream one model turn.

        Closing the iterator (``aclose()`` or task cancellation) must close the
        upstream HTTP response at once, so the upstream sees the disconnect.

        Raises:
            ProviderError: for every upstream fault (never an SDK exception).
        """
        ...
