"""Knowledge fixtures: inline ingestion, a fake OpenAI embeddings server, embed-call counting."""
from __future__ import annotations

import asyncio
import hashlib
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _inline_ingestion(settings: Any) -> None:
    # The test transaction is never committed, so a background worker could not see it.
    settings.KNOWLEDGE_INGEST_MODE = "inline"
    settings.EMBEDDINGS_BACKEND = "local"
    settings.EMBEDDINGS_MODEL = ""


def fake_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector per text (texts sharing a first word point alike)."""
    values = []
    seed = text.split()[0] if text.split() else text
    for index in range(dimensions):
        digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
        values.append(int.from_bytes(digest[:4], "big") / 2**32 - 0.5)
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


@dataclass
class FakeOpenAI:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # "ok" | "error" (HTTP 400) | "wrong_dimensions"
    mode: str = "ok"


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible ``POST /v1/embeddings`` on 127.0.0.1, over real HTTP."""
    loop = asyncio.new_event_loop()
    state: dict[str, Any] = {}
    ready = threading.Event()

    async def embeddings(request: web.Request) -> web.Response:
        fake: FakeOpenAI = state["fake"]
        body = await request.json()
        fake.requests.append(body)
        fake.headers.append(dict(request.headers))
        if fake.mode == "error":
            return web.json_response(
                {"error": {"message": "bad model", "type": "invalid_request_error", "code": "model_not_found"}},
                status=400,
            )
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimensions = int(body.get("dimensions") or 1536)
        if fake.mode == "wrong_dimensions":
            dimensions = 1536
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(text, dimensions)}
                for i, text in reversed(list(enumerate(inputs)))]  # out of order on purpose
        tokens = sum(len(text.split()) for text in inputs)
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/v1/embeddings", embeddings)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        state["runner"] = runner
        state["fake"] = FakeOpenAI(base_url=f"http://127.0.0.1:{port}/v1")
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()),
                              daemon=True)
    thread.start()
    assert ready.wait(10)
    yield state["fake"]
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@dataclass
class EmbedCounter:
    calls: int = 0
    texts: int = 0


@pytest.fixture
def embed_counter(monkeypatch: pytest.MonkeyPatch) -> EmbedCounter:
    """Counts calls to the local embedder (the real model still runs)."""
    from apps.knowledge.embeddings.local import LocalEmbedder

    counter = EmbedCounter()
    real_embed = LocalEmbedder.embed

    def counting(self: LocalEmbedder, texts: list[str]) -> list[list[float]]:
        counter.calls += 1
        counter.texts += len(texts)
        return real_embed(self, texts)

    monkeypatch.setattr(LocalEmbedder, "embed", counting)
    return counter
