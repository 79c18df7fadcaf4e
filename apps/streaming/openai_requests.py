"""OpenAI Chat Completions request bodies → the engine's turn (no database).

The API is stateless: every request carries the whole conversation. The last message is the
turn (a user message, or the results of the client's own tool calls); the messages before it
are the history (``RunRequest.history`` replaces what the chat has stored); leading
``system``/``developer`` messages become the client's instructions.

Tool turns are kept as text: an assistant turn that called tools reads ``[called name(args)
as id]`` and a tool result becomes a user turn ``[result of id (name)] …``. That works with
every provider behind Blueprint, at the price of the exact wire form of earlier tool rounds.
Fields the engine has no use for (``top_p``, ``stop``, ``seed``, ``user`` …) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from apps.chats.attachments import AttachmentUpload
from apps.core.errors import ValidationFailed
from apps.engine import validation as v
from apps.engine.tools import ALL_TOOLS
from apps.providers.base import ToolSpec

ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_TOOLS = 128
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EFFORTS = ("minimal", "low", "medium", "high")


@dataclass
class CompletionRequest:
    model: str
    text: str
    history: list[tuple[str, str]]
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stream: bool = False
    include_usage: bool = False
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: Any = None
    attachments: list[AttachmentUpload] = field(default_factory=list)
    reasoning: bool = False


def _fail(message: str, param: str) -> ValidationFailed:
    return ValidationFailed(message, field=param)


def _content(value: Any, where: str, *, allow_images: bool) -> tuple[str, list[dict[str, str]]]:
    """A message's text (string or content parts) and its image attachments."""
    if value is None:
        return "", []
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise _fail(f"{where}.content must be a string or an array of content parts.", f"{where}.content")
    texts: list[str] = []
    images: list[dict[str, str]] = []
    for index, part in enumerate(value):
        at = f"{where}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and allow_images:
            url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
            if not isinstance(url, str) or not url.startswith("data:image/"):
                raise _fail(f"{at}.image_url.url must be a data:image/… URL (remote images are not fetched).",
                            f"{at}.image_url.url")
            images.append({"type": "image", "url": url, "name": f"image-{len(images) + 1}"})
        else:
            allowed = "text or image_url (in the last user message)" if allow_images else "text"
            raise _fail(f"{at}.type must be {allowed}.", f"{at}.type")
    return "\n".join(texts), images


def _tool_call_text(calls: Any, where: str, names: dict[str, str]) -> str:
    if not isinstance(calls, list):
        raise _fail(f"{where}.tool_calls must be an array.", f"{where}.tool_calls")
    lines = []
    for index, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not call.get("id"):
            raise _fail(f"{where}.tool_calls[{index}] needs an id and a function name.", f"{where}.tool_calls")
        names[str(call["id"])] = function["name"]
        lines.append(f"[called {function['name']}({function.get('arguments') or '{}'}) as {call['id']}]")
    return "\n".join(lines)


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _messages(value: Any) -> tuple[str | None, list[tuple[str, str]], str, list[dict[str, str]]]:
    """(instructions, history, the turn's text, its images)."""
    if not isinstance(value, list) or not value:
        raise _fail("messages must be a non-empty array.", "messages")
    if len(value) > settings.CHAT_MAX_HISTORY_MESSAGES + 1:
        raise _fail(f"messages has {len(value)} items; the maximum is {settings.CHAT_MAX_HISTORY_MESSAGES + 1}.",
                    "messages")
    last_role = _role(value[-1])
    if last_role not in ("user", "tool"):
        raise _fail("The last message must be a user message or a tool result.", f"messages[{len(value) - 1}].role")
    trailing = 1
    while last_role == "tool" and trailing < len(value) and _role(value[-1 - trailing]) == "tool":
        trailing += 1

    instructions: list[str] = []
    turns: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    images: list[dict[str, str]] = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _fail(f"{where} must be an object.", where)
        role = message.get("role")
        if role not in ROLES:
            raise _fail(f"{where}.role must be one of {', '.join(ROLES)} (got {role!r}).", f"{where}.role")
        is_turn_user = index == len(value) - 1 and role == "user"
        text, found = _content(message.get("content"), where, allow_images=is_turn_user)
        images.extend(found)
        v.message_text(text, field=f"{where}.content", required=False)
        if role in ("system", "developer"):
            if not turns:
                instructions.append(text)
            else:
                turns.append(("system", text))
        elif role == "assistant":
            if message.get("tool_calls"):
                text = "\n".join(filter(None, [text, _tool_call_text(message["tool_calls"], where, names)]))
            turns.append(("assistant", text))
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            if not call_id:
                raise _fail(f"{where}.tool_call_id is required for a tool message.", f"{where}.tool_call_id")
            turns.append(("user", f"[result of {call_id} ({names.get(call_id, 'tool')})]\n{text}"))
        else:
            turns.append(("user", text))
    history, turn = turns[: len(turns) - trailing], turns[len(turns) - trailing:]
    text = "\n\n".join(content for _, content in turn)
    if not text.strip() and not images:
        raise _fail("The last message has no text.", f"messages[{len(value) - 1}].content")
    return ("\n\n".join(instructions) or None), history, text, images


def _tools(value: Any) -> list[ToolSpec]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_TOOLS:
        raise _fail(f"tools must be an array of at most {MAX_TOOLS} tools.", "tools")
    specs: list[ToolSpec] = []
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise _fail(f"{where} must be {{type: 'function', function: {{name, …}}}}.", where)
        name = function.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise _fail(f"{where}.function.name must match ^[A-Za-z0-9_-]{{1,64}}$.", f"{where}.function.name")
        if name in ALL_TOOLS or name in {s.name for s in specs}:
            raise _fail(f"{where}.function.name {name!r} is taken (a duplicate or one of Blueprint's own tools).",
                        f"{where}.function.name")
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        description = function.get("description", "")
        if not isinstance(parameters, dict) or not isinstance(description, str):
            raise _fail(f"{where}.function.parameters must be a JSON Schema object.", f"{where}.function.parameters")
        specs.append(ToolSpec(name=name, description=description, parameters=parameters))
    return specs


def _tool_choice(value: Any, tools: list[ToolSpec]) -> Any:
    if value is None:
        return None
    if value in ("none", "auto", "required"):
        if value == "required" and not tools:
            raise _fail("tool_choice 'required' needs tools.", "tool_choice")
        return value
    name = value.get("function", {}).get("name") if isinstance(value, dict) and isinstance(value.get("function"),
                                                                                            dict) else None
    if not isinstance(value, dict) or value.get("type") != "function" or name not in {t.name for t in tools}:
        raise _fail("tool_choice must be none, auto, required or {type: 'function', function: {name}} naming "
                    "one of tools.", "tool_choice")
    return {"type": "function", "function": {"name": name}}


def parse_completion_request(data: Any) -> CompletionRequest:
    """Validate a ``POST /v1/chat/completions`` body.

    Raises:
        ValidationFailed: naming the parameter (``field``), before any lookup or provider call.
    """
    body = v.require_object(data)
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _fail("model is required.", "model")
    n = body.get("n")
    if n is not None and n != 1:
        raise _fail("n must be 1: Blueprint generates one choice per request.", "n")
    instructions, history, text, images = _messages(body.get("messages"))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    param = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise _fail(f"{param} must be a positive integer.", param)
    stream = v.optional_bool(body.get("stream"), field="stream") or False
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise _fail("stream_options must be an object.", "stream_options")
    include_usage = v.optional_bool((options or {}).get("include_usage"), field="stream_options.include_usage")
    tools = _tools(body.get("tools"))
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in (*_EFFORTS, "none"):
        raise _fail(f"reasoning_effort must be one of none, {', '.join(_EFFORTS)}.", "reasoning_effort")
    return CompletionRequest(
        model=model.strip(),
        text=text,
        history=history,
        system_prompt=instructions,
        temperature=v.temperature(body.get("temperature")),
        max_tokens=max_tokens,
        stream=stream,
        include_usage=bool(include_usage),
        tools=tools,
        tool_choice=_tool_choice(body.get("tool_choice"), tools),
        attachments=v.attachments(images or None, field="messages"),
        reasoning=effort in _EFFORTS,
    )

