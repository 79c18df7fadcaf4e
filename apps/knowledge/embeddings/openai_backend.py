"""OpenAI (or any OpenAI-compatible) embeddings. The only module that imports the SDK here."""
from __future__ import annotations

from typing import Any

from apps.knowledge.embeddings import EmbeddingConfig, EmbeddingError, check_dimensions
from apps.knowledge.models import EMBEDDING_DIMENSIONS

# The API accepts up to 2048 inputs per request; smaller batches keep requests well
# under its per-request token limit.
_MAX_BATCH = 256


class OpenAIEmbedder:
    def __init__(self, config: EmbeddingConfig) -> None:
        import openai

        if not config.api_key:
            raise EmbeddingError(
                "EMBEDDINGS_BACKEND=openai needs EMBEDDINGS_OPENAI_API_KEY (or OPENAI_API_KEY)."
            )
        self.config = config
        self.model_id = config.model_id
        kwargs: dict[str, Any] = {"api_key": config.api_key, "timeout": config.timeout, "max_retries": 2}
        if config.base_url:
            kwargs["base_url"] = config.base_url
        self._client = openai.OpenAI(**kwargs)
        self._errors: tuple[type[Exception], ...] = (openai.OpenAIError,)

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        size = min(self.config.batch_size, _MAX_BATCH) if self.config.batch_size > 0 else _MAX_BATCH
        for start in range(0, len(texts), size):
            batch = texts[start:start + size]
            try:
                response = self._client.embeddings.create(
                    model=self.config.model,
                    input=batch,
                    dimensions=EMBEDDING_DIMENSIONS,
                    encoding_format="float",
                )
            except self._errors as exc:
                raise EmbeddingError(f"OpenAI embeddings failed: {exc}", retry=True) from exc
            items = sorted(response.data, key=lambda item: item.index)
            if len(items) != len(batch):
                raise EmbeddingError(
                    f"OpenAI returned {len(items)} embeddings for {len(batch)} inputs.", retry=True
                )
            vectors.extend([list(item.embedding) for item in items])
        return check_dimensions(vectors, model_id=self.model_id)
