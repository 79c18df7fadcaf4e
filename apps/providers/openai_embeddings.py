"""Embeddings from OpenAI (or any OpenAI-compatible server): the SDK call, kept with the providers.

The knowledge app decides what to embed and checks the vectors; this module only talks to
the API.
"""
from __future__ import annotations

from typing import Any

from apps.providers.base import ProviderError

# The API accepts up to 2048 inputs per request; smaller batches keep requests well
# under its per-request token limit.
MAX_BATCH = 256


class OpenAIEmbeddingsClient:
    def __init__(self, *, api_key: str, base_url: str = "", timeout: float = 60.0) -> None:
        import openai

        kwargs: dict[str, Any] = {"api_key": api_key, "timeout": timeout, "max_retries": 2}
        if base_url:
            kwargs["base_url"] = base_url
        self._client = openai.OpenAI(**kwargs)
        self._errors: tuple[type[Exception], ...] = (openai.OpenAIError,)

    def embed(self, texts: list[str], *, model: str, dimensions: int, batch_size: int) -> list[list[float]]:
        """Vectors for ``texts`` in order.

        Raises:
            ProviderError: the API failed or answered with the wrong number of vectors.
        """
        vectors: list[list[float]] = []
        size = min(batch_size, MAX_BATCH) if batch_size > 0 else MAX_BATCH
        for start in range(0, len(texts), size):
            batch = texts[start:start + size]
            try:
                response = self._client.embeddings.create(
                    model=model, input=batch, dimensions=dimensions, encoding_format="float",
                )
            except self._errors as exc:
                raise ProviderError(f"OpenAI embeddings failed: {exc}", code="upstream_error",
                                    retryable=True) from exc
            items = sorted(response.data, key=lambda item: item.index)
            if len(items) != len(batch):
                raise ProviderError(f"OpenAI returned {len(items)} embeddings for {len(batch)} inputs.",
                                    code="upstream_error", retryable=True)
            vectors.extend([list(item.embedding) for item in items])
        return vectors
