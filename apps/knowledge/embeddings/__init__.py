"""Embedding backends: the local all-MiniLM-L6-v2 (default) or OpenAI, chosen by settings.

``get_embedder()`` returns one shared backend per configuration, so the local model is loaded
once per process. ``current_model_id()`` names the configured model without loading it; it is
stored on every document so vectors of different models are never compared.

Settings (read with defaults): ``EMBEDDINGS_BACKEND`` (``local`` | ``openai``),
``EMBEDDINGS_MODEL``, ``EMBEDDINGS_BATCH_SIZE``, ``EMBEDDINGS_OPENAI_API_KEY`` and
``EMBEDDINGS_OPENAI_BASE_URL`` (falling back to ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``),
``EMBEDDINGS_TIMEOUT``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from apps.core.errors import ApplicationError
from apps.knowledge.models import EMBEDDING_DIMENSIONS

LOCAL_DEFAULT_MODEL = "all-MiniLM-L6-v2"
OPENAI_DEFAULT_MODEL = "text-embedding-3-small"


class EmbeddingError(ApplicationError):
    status = 503
    code = "embedding_error"


class Embedder(Protocol):
    model_id: str

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit-length vector of ``EMBEDDING_DIMENSIONS`` floats per text, in order."""
        ...


@dataclass(frozen=True)
class EmbeddingConfig:
    backend: str
    model: str
    batch_size: int
    api_key: str
    base_url: str
    timeout: float

    @property
    def model_id(self) -> str:
        if self.backend == "openai":
            return f"openai:{self.model}@{EMBEDDING_DIMENSIONS}"
        return f"local:{self.model}"


def embedding_config() -> EmbeddingConfig:
    backend = str(getattr(settings, "EMBEDDINGS_BACKEND", "local") or "local").lower()
    if backend not in ("local", "openai"):
        raise EmbeddingError(f"EMBEDDINGS_BACKEND must be 'local' or 'openai', not {backend!r}.")
    default_model = OPENAI_DEFAULT_MODEL if backend == "openai" else LOCAL_DEFAULT_MODEL
    return EmbeddingConfig(
        backend=backend,
        model=str(getattr(settings, "EMBEDDINGS_MODEL", "") or default_model),
        batch_size=max(1, int(getattr(settings, "EMBEDDINGS_BATCH_SIZE", 32))),
        api_key=str(getattr(settings, "EMBEDDINGS_OPENAI_API_KEY", "")
                    or getattr(settings, "OPENAI_API_KEY", "") or ""),
        base_url=str(getattr(settings, "EMBEDDINGS_OPENAI_BASE_URL", "")
                     or getattr(settings, "OPENAI_BASE_URL", "") or ""),
        timeout=float(getattr(settings, "EMBEDDINGS_TIMEOUT", 60.0)),
    )


def current_model_id() -> str:
    return embedding_config().model_id


_embedders: dict[EmbeddingConfig, Embedder] = {}
_embedders_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The shared backend for the current settings (created on first use, thread-safe)."""
    config = embedding_config()
    embedder = _embedders.get(config)
    if embedder is not None:
        return embedder
    with _embedders_lock:
        embedder = _embedders.get(config)
        if embedder is None:
            if config.backend == "openai":
                from apps.knowledge.embeddings.openai_backend import OpenAIEmbedder

                embedder = OpenAIEmbedder(config)
            else:
                from apps.knowledge.embeddings.local import LocalEmbedder

                embedder = LocalEmbedder(config)
            _embedders[config] = embedder
    return embedder


def check_dimensions(vectors: list[list[float]], *, model_id: str) -> list[list[float]]:
    for vector in vectors:
        if len(vector) != EMBEDDING_DIMENSIONS:
            raise EmbeddingError(
                f"The embedding model {model_id} produced {len(vector)}-dimensional vectors; "
                f"the chunk column holds {EMBEDDING_DIMENSIONS}. Choose a model (or OpenAI "
                f"'dimensions') that yields {EMBEDDING_DIMENSIONS}."
            )
    return vectors
