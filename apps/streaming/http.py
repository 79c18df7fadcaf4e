"""A small base for streaming HTTP endpoints served as raw ASGI apps under Channels.

Why not ``AsyncHttpConsumer``: its ``handle()`` runs inline, so an
``http.disconnect`` is not seen while a response streams (channels #1249). Here
the stream runs as its own task and a watcher task waits for the disconnect.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError

from apps.core.auth import Principal
from apps.core.errors import ApplicationError, AuthenticationFailed, ServiceUnavailable, ValidationFailed
from apps.engine.events import Event
from apps.engine.subscription import Subscription

logger = logging.getLogger(__name__)

Headers = list[tuple[bytes, bytes]]
SSE_HEADERS: Headers = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]
PING = b": ping\n\n"


# One encoder for every event: json.dumps with options builds a new encoder per call.
_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def dumps(value: Any) -> str:
    return _json.encode(value)


class Call:
    """One HTTP request/response on a raw ASGI connection."""

    def __init__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.started = False
        self.disconnected = False
        self.headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}

    @property
    def method(self) -> str:
        return str(self.scope.get("method", "GET")).upper()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.scope.get("url_route", {}).get("kwargs", {}))

    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qs

        parsed = parse_qs(self.scope.get("query_string", b"").decode("latin1"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}

    async def read_body(self, limit: int, timeout: float | None = None) -> bytes:
        """The whole body, at most ``limit`` bytes (413), within ``timeout`` seconds (408).

        The deadline covers the whole body, not each chunk: a client dripping a byte at a
        time (slowloris) would otherwise hold the connection and its task for ever.
        """
        try:
            async with asyncio.timeout(timeout):
                return await self._read_body(limit)
        except TimeoutError:
            raise ApplicationError(
                f"The request body did not arrive within {timeout:g} seconds.", code="request_timeout", status=408
            ) from None

    async def _read_body(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                raise asyncio.CancelledError
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                raise ApplicationError(
                    f"The request body is larger than {limit} bytes.", code="payload_too_large", status=413
                )
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def json_body(self, body: bytes) -> Any:
        if not body.strip():
            raise ValidationFailed("The request body must be a JSON object.", field="body", code="malformed_json")
        try:
            # RFC 8259: JSON between systems is UTF-8 (json.loads would also guess UTF-16/32).
            value = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"Malformed JSON: {exc}", field="body", code="malformed_json") from None
        except RecursionError:
            raise ValidationFailed("The JSON is nested too deeply.", field="body", code="malformed_json") from None
        check_json_strings(value)
        return value

    async def respond_json(self, body: Any, *, status: int = 200, headers: Headers | None = None) -> None:
        payload = dumps(body).encode()
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *(headers or []),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": payload})
        self.started = True

    async def start_stream(self, headers: Headers | None = None) -> None:
        await self.send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, *(headers or [])]})
        self.started = True

    async def write(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def end(self) -> None:
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def wait_disconnect(self) -> None:
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return


MAX_JSON_DEPTH = 64


def check_json_strings(value: Any, path: str = "body", depth: int = 0) -> None:
    """Reject what JSON allows but Postgres and the providers do not: NUL characters and lone
    UTF-16 surrogates (``"\\ud800"``) in any string, and absurd nesting.

    Raises:
        ValidationFailed: naming the field.
    """
    if depth > MAX_JSON_DEPTH:
        raise ValidationFailed(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep.", field=path,
                               code="malformed_json")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationFailed(f"{path} must not contain NUL characters.", field=path)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(f"{path} contains an unpaired UTF-16 surrogate.", field=path) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_strings(key, path, depth + 1)
            check_json_strings(item, f"{key}" if path == "body" else f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json_strings(item, f"{path}[{index}]", depth + 1)


# An event's bytes on the wire (b"" leaves it out).
Encoder = Callable[[Event], bytes]


async def pump_events(call: Call, sub: Subscription, encode: Encoder, *, heartbeat_s: float | None = None) -> None:
    """Write the subscription's events until the terminal one, with ``: ping`` heartbeats."""
    heartbeat = settings.SSE_HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    while True:
        try:
            event = await sub.next(timeout=heartbeat)
        except StopAsyncIteration:
            return
        if event is None:
            await call.write(PING)
            continue
        # Coalesce whatever else is already waiting into the same write.
        data = encode(event)
        more = sub.next_ready()
        if more is not None:
            chunks = [data]
            while more is not None:
                chunks.append(encode(more))
                more = sub.next_ready()
            data = b"".join(chunks)
        if data:  # a dialect may leave events out (b"")
            await call.write(data)


async def stream_until_done_or_disconnect(
    call: Call,
    sub: Subscription,
    encode: Encoder,
    on_disconnect: Callable[[], Awaitable[None]] | None = None,
    trailer: Callable[[], Iterable[bytes]] | None = None,
) -> None:
    pump = asyncio.create_task(pump_events(call, sub, encode))
    watcher = asyncio.create_task(call.wait_disconnect())
    try:
        done, _ = await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher in done:
            pump.cancel()
            if on_disconnect is not None:
                await on_disconnect()
            return
        watcher.cancel()
        pump.result()
        if trailer is not None:
            tail = b"".join(trailer())
            if tail:
                await call.write(tail)
        await call.end()
    finally:
        for task in (pump, watcher):
            if not task.done():
                task.cancel()
        sub.close()


def csrf_failure(scope: dict[str, Any], body: bytes) -> str | None:
    """Django's own CSRF check for session-authenticated unsafe requests."""
    from django.core.handlers.asgi import ASGIRequest
    from django.middleware.csrf import CsrfViewMiddleware

    request = ASGIRequest(scope, io.BytesIO(body))
    response = CsrfViewMiddleware(lambda _r: None).process_view(request, lambda _r: None, (), {})  # type: ignore[arg-type,return-value]
    if response is None:
        return None
    return "CSRF verification failed. Send the csrftoken cookie's value in the X-CSRFToken header."


_django: Any = None


def _django_app() -> Any:
    global _django
    if _django is None:
        from django.core.asgi import get_asgi_application

        _django = get_asgi_application()
    return _django


class Endpoint:
    """A raw ASGI endpoint: auth, body, errors; subclasses implement ``handle``."""

    methods: tuple[str, ...] = ("POST",)
    auth_required = True
    # Other methods on the same path go to Django (e.g. GET history next to POST send).
    fall_through_to_django = False

    def error_body(self, exc: ApplicationError) -> dict[str, Any]:
        return {"error": exc.as_dict()}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        call = Call(scope, receive, send)
        if call.method not in self.methods and self.fall_through_to_django:
            await _django_app()(scope, receive, send)
            return
        try:
            if call.method not in self.methods:
                raise ApplicationError(f"Method {call.method} not allowed.", code="method_not_allowed", status=405)
            body = (await call.read_body(settings.MAX_REQUEST_BODY_BYTES, settings.REQUEST_BODY_TIMEOUT_S)
                    if call.method != "GET" else b"")
            principal = self.authenticate(scope)
            if principal is not None and principal.via_session and call.method not in ("GET", "HEAD"):
                reason = csrf_failure(scope, body)
                if reason:
                    raise ApplicationError(reason, code="csrf_failed", status=403)
            await self.handle(call, principal, body)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            if not call.disconnected:
                raise
        except ApplicationError as exc:
            await self._send_error(call, exc)
        except (OperationalError, InterfaceError):
            logger.warning("streaming endpoint: the database is unreachable", exc_info=True)
            await self._send_error(call, ServiceUnavailable())
        except Exception:
            logger.exception("streaming endpoint failed")
            await self._send_error(
                call,
                ApplicationError("Blueprint failed to handle the request.", code="internal_error", status=500),
            )

    async def _send_error(self, call: Call, exc: ApplicationError) -> None:
        if call.started:
            logger.warning("error after the response started: %s", exc.message)
            return
        headers: Headers = []
        retry_after = exc.extra.get("retryAfter")
        if retry_after is not None:
            headers.append((b"retry-after", str(retry_after).encode()))
        if exc.status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="api"'))
        await call.respond_json(self.error_body(exc), status=exc.status, headers=headers)

    def authenticate(self, scope: dict[str, Any]) -> Principal | None:
        error = scope.get("auth_error")
        if error is not None:
            raise error
        principal = scope.get("principal")
        if principal is None and self.auth_required:
            raise AuthenticationFailed("Authentication credentials were not provided.")
        return principal

    async def handle(self, call: Call, principal: Principal, body: bytes) -> None:
        raise NotImplementedError
