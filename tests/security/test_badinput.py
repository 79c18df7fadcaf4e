"""Bad input on every streaming dialect (routes.STREAM_BODIES, routes.WS_FRAMES), on a live server.

Garbage bytes, invalid UTF-8, huge strings, 10,000-deep nesting, wrong types for every field,
NaN/Infinity, duplicate keys, unicode edge cases and seeded random JSON: each gets the
dialect's own error (a 4xx JSON body or an ``error`` frame), before any provider call
(the fake upstream sees 0 requests), with nothing stored, never a 5xx, never a hang.
Oversize bodies get a 413 and a body dripped slower than REQUEST_BODY_TIMEOUT_S a 408,
while other clients are served meanwhile.
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import pytest

from apps.chats.models import Message
from tests.security.conftest import World, call, ws_exchange
from tests.security.routes import STREAM_BODIES, WS_FRAMES, error_code, fill_template, ws_error_code

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 20261203
WRONG_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "x" * 30_000, [], [1, "a"], {}, {"a": {"b": []}}]
RAW_BODIES: dict[str, bytes] = {
    "garbage": b"\x00\x01\x02garbage\xff\xfe",
    "binary": bytes(range(256)) * 4,
    "invalid utf-8": b'{"text": "\xc3\x28\xa0\xa1", "messages": "\xff"}',
    "utf-16": '{"text": "hi"}'.encode("utf-16"),
    "empty": b"",
    "whitespace": b"   \n\t ",
    "not an object": b'["text", "hello"]',
    "a string": b'"hello"',
    "a number": b"42",
    "null": b"null",
    "truncated": b'{"text": "hel',
    "deep arrays": b"[" * 10_000 + b"]" * 10_000,
    "deep objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "deep in a field": b'{"text": "x", "messages": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    "NaN": b'{"text": NaN, "messages": NaN, "temperature": NaN}',
    "Infinity": b'{"text": Infinity, "messages": -Infinity, "temperature": Infinity}',
    "NaN temperature": b'{"text": "x", "messages": [{"role": "user", "content": "x"}], "temperature": NaN}',
    "Infinity maxTokens": b'{"text": "x", "messages": [{"role": "user", "content": "x"}], "maxTokens": 1e999}',
    "duplicate keys": b'{"text": "x", "text": 7, "messages": [{"role": "user", "content": "x"}], "messages": 7}',
    "lone surrogate": b'{"text": "\\ud800", "messages": [{"role": "user", "content": "\\udfff"}]}',
    "NUL": b'{"text": "a\\u0000b", "messages": [{"role": "user", "content": "a\\u0000b"}]}',
    "only unicode spaces": json.dumps({"text": "\u3000\u2028\u00a0",
                                       "messages": [{"role": "user", "content": "\u3000"}]}).encode(),
    "huge text": json.dumps({"text": "x" * 20_001,
                             "messages": [{"role": "user", "content": "x" * 20_001}]}).encode(),
    "huge key": json.dumps({"k" * 100_000: 1}).encode(),
    "many keys": json.dumps({f"k{i}": i for i in range(50_000)}).encode(),
}


def _message_field(body: dict[str, Any]) -> str:
    return "text" if "text" in body else "messages" if "messages" in body else next(iter(body))


def wrong_type_bodies(valid: dict[str, Any]) -> list[tuple[str, bytes]]:
    """For every field (and the usual optional ones), each wrong value — with the message field
    itself broken too, so that no variant is a valid request that would reach the provider."""
    optional = ["chatId", "sessionId", "model", "temperature", "maxTokens", "attachments", "clientMessageId",
                "enableDSL", "reasoning", "provider", "systemPrompt", "stream", "projectId", "user_name"]
    fields = list(dict.fromkeys([*valid, *optional]))
    cases: list[tuple[str, bytes]] = []
    broken = _message_field(valid)
    for name in fields:
        for value in WRONG_VALUES:
            if value is None and name in ("chatId", "sessionId"):
                continue  # null is "not sent": the default chat, documented
            body = {**valid, name: value}
            if name != broken:
                body[broken] = 12345
            cases.append((f"{name}={json.dumps(value)[:20]}", json.dumps(body).encode()))
    return cases


def random_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2**63, 1e308, -0.0, rng.randint(-10**6, 10**6)])
    if choice in (3, 4):
        alphabet = "aZ09 _-\u00e9\u200b\u202e\U0001f600\ufeff\\\"'<>/{}"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
    if choice in (5, 6):
        return {random_key(rng): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [random_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def random_key(rng: random.Random) -> str:
    return rng.choice(["text", "messages", "chatId", "sessionId", "model", "temperature", "maxTokens", "role",
                       "content", "type", "attachments", "\u0000", "__proto__", "constructor", "x" * 50])


def random_bodies(valid: dict[str, Any], count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    cases = []
    broken = _message_field(valid)
    for index in range(count):
        body = {**valid}
        for _ in range(rng.randrange(1, 4)):
            body[random_key(rng)] = random_json(rng)
        bad = random_json(rng)
        bad = 12345 if bad is None else bad  # a null chatId/sessionId is "not sent", a valid request
        body[broken] = bad if not isinstance(bad, str) or not bad.strip() else [bad]
        cases.append((f"random#{index}", json.dumps(body).encode()))
    return cases


def _ids(world: World) -> dict[str, str]:
    # The caller's own objects: the errors must come from the body, not from scope.
    from apps.chats.models import Chat

    chat = Chat.objects.get(project=world.attacker.project, is_default=True)
    return {"project": str(world.attacker.project.pk), "chat": str(chat.pk)}


async def _messages() -> int:
    return await Message.objects.acount()


async def test_every_streaming_body_fuzz_case_is_a_clean_4xx(asgi_server, world, fake_openai):
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    before = await _messages()
    failures: list[str] = []
    total = 0
    for path_template, valid, shape in STREAM_BODIES:
        path = fill_template(path_template, ids)
        valid_body = fill_template(valid, ids)
        cases = [*RAW_BODIES.items(), *wrong_type_bodies(valid_body), *random_bodies(valid_body, 25, SEED)]
        for label, raw in cases:
            total += 1
            started = time.monotonic()
            answer = await call(asgi_server, "POST", path, key=world.attacker.raw_key, raw=raw, timeout=10)
            if not (400 <= answer.status < 500 and answer.status != 401 and error_code(shape, answer.body)):
                failures.append(f"{path} [{label}]: {answer.status} {answer.text[:200]}")
            elif time.monotonic() - started > 5:
                failures.append(f"{path} [{label}]: took {time.monotonic() - started:.1f}s")
    assert not failures, f"{len(failures)} of {total}:\n" + "\n".join(failures)
    assert fake_openai.requests == []
    assert await _messages() == before
    print(f"streaming body fuzz: {total} cases over {len(STREAM_BODIES)} endpoints")


WS_RAW: dict[str, str | bytes] = {
    "binary frame": b"\x00\xff\x10binary",
    "garbage text": "}{not json",
    "a list": "[1, 2, 3]",
    "null": "null",
    "deep": "[" * 10_000 + "]" * 10_000,
    "NaN": '{"type": "message", "text": NaN, "content": NaN}',
    "duplicate": '{"type": "message", "type": 7}',
    "lone surrogate": '{"type": "message", "text": "\\ud800", "content": "\\ud800"}',
    "NUL": '{"type": "message", "text": "a\\u0000", "content": "a\\u0000"}',
    "unknown type": '{"type": "launch_missiles"}',
    "huge": json.dumps({"type": "message", "text": "x" * 20_001, "content": "x" * 20_001}),
}


async def test_every_websocket_frame_fuzz_case_gets_an_error_frame(asgi_server, world, fake_openai):
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    before = await _messages()
    failures: list[str] = []
    total = 0
    for path_template, valid, shape in WS_FRAMES:
        path = fill_template(path_template, ids)
        broken = "text" if "text" in valid else "content"
        frames: list[tuple[str, str | bytes]] = [*WS_RAW.items()]
        for name in [*valid, "chatId", "model", "temperature", "clientMessageId", "enableDSL"]:
            for value in WRONG_VALUES[:8]:
                frame = {**valid, name: value}
                if name not in (broken, "type"):
                    frame[broken] = 12345
                frames.append((f"{name}={json.dumps(value)[:20]}", json.dumps(frame)))
        for label, raw in frames:
            total += 1
            answer = await ws_exchange(asgi_server, path, key=world.attacker.raw_key, raw=raw, timeout=5)
            if not answer.frames or not ws_error_code(shape, answer.frames[0]):
                failures.append(f"{path} [{label}]: {answer}")
    assert not failures, f"{len(failures)} of {total}:\n" + "\n".join(failures)
    assert fake_openai.requests == []
    assert await _messages() == before
    print(f"websocket frame fuzz: {total} frames over {len(WS_FRAMES)} endpoints")


async def test_oversize_bodies_get_413_on_streaming_and_rest(asgi_server, world, fake_openai, settings):
    settings.MAX_REQUEST_BODY_BYTES = 64 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    big = json.dumps({"text": "x" * 100_000, "messages": [{"role": "user", "content": "x"}], "name": "x" * 100_000})
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    failures = []
    for path_template, _valid, shape in STREAM_BODIES:
        answer = await call(asgi_server, "POST", fill_template(path_template, ids), key=world.attacker.raw_key,
                            raw=big.encode())
        if answer.status != 413 or error_code(shape, answer.body) is None:
            failures.append(f"{path_template}: {answer.status} {answer.text[:200]}")
    for path in ("/api/projects", f"/api/projects/{ids['project']}/documents", "/api/api-keys"):
        answer = await call(asgi_server, "POST", path, key=world.attacker.raw_key, raw=big.encode())
        if answer.status != 413 or error_code("rest", answer.body) is None:
            failures.append(f"{path}: {answer.status} {answer.text[:200]}")
    assert not failures, "\n".join(failures)
    assert fake_openai.requests == []


REST_WRITES = ["/api/projects", "/api/projects/{project}/documents", "/api/projects/{project}/chats"]


async def _slow_post(port: int, path: str, key: str, *, declared: int, seconds: float) -> tuple[bytes, float]:
    """Declare ``declared`` bytes, send one every 0.2 s; return what came back and when."""
    # A request line and headers arrive at once: it is the body that drips.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n{{").encode())
    await writer.drain()
    answer = b""
    try:
        async with asyncio.timeout(seconds):
            while not answer:
                try:
                    answer = await asyncio.wait_for(reader.read(4096), timeout=0.2)
                except TimeoutError:
                    writer.write(b" ")
                    await writer.drain()
    except (TimeoutError, ConnectionError):
        pass
    elapsed = time.monotonic() - started
    writer.close()
    return answer, elapsed


async def test_a_slowloris_body_is_cut_off_with_408_while_others_are_served(asgi_server, world, fake_openai,
                                                                            settings):
    settings.REQUEST_BODY_TIMEOUT_S = 1.5
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    port = int(asgi_server.url.rsplit(":", 1)[1])
    slow = [asyncio.create_task(_slow_post(port, fill_template(path, ids), world.attacker.raw_key,
                                           declared=10_000, seconds=10))
            for path in [*(p for p, _valid, _shape in STREAM_BODIES), *REST_WRITES]]
    # Meanwhile, another client is served at once.
    started = time.monotonic()
    health = await call(asgi_server, "GET", "/api/projects", key=world.owner.raw_key, timeout=5)
    assert health.status == 200 and time.monotonic() - started < 2
    results = await asyncio.gather(*slow)
    assert len(results) == len(STREAM_BODIES) + len(REST_WRITES)
    for answer, elapsed in results:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert elapsed < 5
        assert b"request_timeout" in answer.lower()
    assert fake_openai.requests == []


async def test_nul_surrogates_and_depth_are_400s_naming_the_field(asgi_server, world, fake_openai):
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    native = f"/api/chat/{ids['project']}/messages"
    cases = [
        (native, b'{"text": "a\\u0000b"}', "text"),
        (native, b'{"text": "ok", "attachments": [{"name": "\\udc00"}]}', "attachments[0].name"),
        ("/api/chat", b'{"messages": [{"role": "user", "content": "\\ud800"}]}', "messages[0].content"),
        ("/api/chat/stream", b'{"messages": [{"role": "user", "content": "x"}], "model": "a\\u0000"}', "model"),
        ("/api/chat/stream", b'{"messages": ' + b"[" * 100 + b"]" * 100 + b"}", "messages" + "[0]" * 64),
        ("/api/chat", b"[" * 10_000 + b"]" * 10_000, "body"),
    ]
    for path, raw, field in cases:
        answer = await call(asgi_server, "POST", path, key=world.attacker.raw_key, raw=raw)
        error = answer.body["error"]
        found = error.get("field") if isinstance(error, dict) else answer.body.get("field")
        assert answer.status == 400 and found == field, (path, answer.text)
    assert fake_openai.requests == []


async def test_a_bad_frame_leaves_the_socket_usable(asgi_server, world, fake_openai):
    """After a binary or NUL frame, the same socket still answers the next frame."""
    from asgiref.sync import sync_to_async

    ids = await sync_to_async(_ids)(world)
    url = asgi_server.ws_url(f"/api/chat/{ids['project']}/ws")
    async with asgi_server.session.ws_connect(url, headers={"X-API-Key": world.attacker.raw_key}) as socket:
        await socket.send_bytes(b"\x00\xff")
        assert (await socket.receive_json(timeout=5))["type"] == "error"
        await socket.send_str('{"type": "stop", "chatId": "a\\u0000"}')
        frame = await socket.receive_json(timeout=5)
        assert (frame["type"], frame["field"]) == ("error", "frame.chatId")
        await socket.send_json({"type": "stop", "chatId": ids["chat"]})
        assert (await socket.receive_json(timeout=5))["type"] == "stop.ack"
        assert not socket.closed and socket.close_code is None
        await socket.close()
