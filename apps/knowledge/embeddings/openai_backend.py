"""OpenAI (or any OpenAI-compatible) embeddings, through apps.providers (where the SDK lives)."""
from __future__ import annotations

from apps.knowledge.embeddings import EmbeddingConfig, EmbeddingError, check_dimensions
from apps.knowledge.models import EMBEDDING_DIMENSIONS
from apps.providers.base import ProviderError


class OpenAIEmbedder:
    def __init__(self, config: EmbeddingConfig) -> None:
        from apps.providers.openai_embeddings import OpenAIEmbeddingsClient

        if not config.api_key:
            raise EmbeddingError(
                "EMBEDDINGS_BACKEND=openai needs EMBEDDINGS_OPENAI_API_KEY (or OPENAI_API_KEY)."
            )
        self.config = config
        self.model_id = config.model_id
        self._client = OpenAIEmbeddingsClient(api_key=config.api_key, base_url=config.base_url or "",
                                              timeout=config.timeout)

    def embed(self, texts: list[str]) -> list[list[float]]:
        try:
            vectors = self._client.embed(texts, model=self.config.model, dimensions=EMBEDDING_DIMENSIONS,
                                         batch_size=self.config.batch_size)
        except ProviderError as exc:
            raise EmbeddingError(exc.message, retry=exc.retryable) from exc
        return check_dimensions(vectors, model_id=self.model_id)
