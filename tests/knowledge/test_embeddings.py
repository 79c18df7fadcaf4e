"""The local model and the OpenAI backend (over real HTTP to a fake server on loopback)."""
from __future__ import annotations

import math
import threading
from typing import Any

import pytest

from apps.knowledge.embeddings import EmbeddingError, current_model_id, get_embedder
from tests.knowledge.conftest import FakeOpenAI, fake_vector


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_local_model_is_384_d_normalised_and_semantic() -> None:
    embedder = get_embedder()
    assert embedder.model_id == "local:all-MiniLM-L6-v2" == current_model_id()
    tide, flood, invoice = embedder.embed(
        ["The tide floods the harbour.", "High water covers the quay.", "Send the VAT invoice."]
    )
    assert len(tide) == 384
    assert math.isclose(sum(v * v for v in tide), 1.0, rel_tol=1e-4)
    assert _cosine(tide, flood) > _cosine(tide, invoice) + 0.1


def test_local_model_is_loaded_once_and_safe_across_threads() -> None:
    embedder = get_embedder()
    assert get_embedder() is embedder
    texts = [f"harbour sensor number {i}" for i in range(8)]
    expected = embedder.embed(texts)
    results: dict[int, list[list[float]]] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            results[index] = get_embedder().embed(texts)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for vectors in results.values():
        assert all(_cosine(a, b) > 0.9999 for a, b in zip(vectors, expected, strict=True))


def test_unknown_backend_is_refused(settings: Any) -> None:
    settings.EMBEDDINGS_BACKEND = "magic"
    with pytest.raises(EmbeddingError):
        get_embedder()


@pytest.fixture
def openai_settings(settings: Any, fake_openai: FakeOpenAI) -> FakeOpenAI:
    settings.EMBEDDINGS_BACKEND = "openai"
    settings.EMBEDDINGS_MODEL = "text-embedding-3-small"
    settings.EMBEDDINGS_OPENAI_API_KEY = "sk-test-embeddings"
    settings.EMBEDDINGS_OPENAI_BASE_URL = fake_openai.base_url
    settings.EMBEDDINGS_BATCH_SIZE = 3
    return fake_openai


def test_openai_backend_asks_for_384_dimensions_in_batches(openai_settings: FakeOpenAI) -> None:
    embedder = get_embedder()
    assert embedder.model_id == "openai:text-embedding-3-small@384"
    texts = [f"text {i}" for i in range(7)]
    vectors = embedder.embed(texts)
    assert [len(batch["input"]) for batch in openai_settings.requests] == [3, 3, 1]
    assert all(batch["dimensions"] == 384 and batch["model"] == "text-embedding-3-small"
               for batch in openai_settings.requests)
    assert openai_settings.headers[0]["Authorization"] == "Bearer sk-test-embeddings"
    # The fake answers out of order; the backend restores input order by index.
    assert vectors == [fake_vector(text, 384) for text in texts]


def test_openai_errors_and_wrong_dimensions_are_embedding_errors(openai_settings: FakeOpenAI) -> None:
    openai_settings.mode = "error"
    with pytest.raises(EmbeddingError, match="bad model"):
        get_embedder().embed(["x"])
    openai_settings.mode = "wrong_dimensions"
    with pytest.raises(EmbeddingError, match="1536-dimensional"):
        get_embedder().embed(["x"])


def test_openai_backend_needs_a_key(settings: Any) -> None:
    settings.EMBEDDINGS_BACKEND = "openai"
    settings.EMBEDDINGS_OPENAI_API_KEY = ""
    settings.OPENAI_API_KEY = ""
    settings.EMBEDDINGS_OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    with pytest.raises(EmbeddingError, match="OPENAI_API_KEY"):
        get_embedder()


@pytest.mark.django_db
def test_switching_models_needs_reindex_and_never_mixes(tenant: Any, openai_settings: FakeOpenAI,
                                                       settings: Any) -> None:
    """Documents embedded by OpenAI are refused under the local model until reindexed."""
    from io import StringIO

    from django.core.management import call_command

    from apps.knowledge.models import Document
    from apps.knowledge.retrieval import RetrievalError, retrieve
    from apps.knowledge.services import document_upload

    document_upload(project=tenant.project, path="tides.md", content="tide tables for the harbour")
    assert Document.objects.get().embedding_model == "openai:text-embedding-3-small@384"
    assert retrieve(project=tenant.project, query="tide charts")[0].path == "tides.md"

    settings.EMBEDDINGS_BACKEND = "local"
    settings.EMBEDDINGS_MODEL = ""
    with pytest.raises(RetrievalError, match="reindex"):
        retrieve(project=tenant.project, query="tide tables")
    out = StringIO()
    call_command("reindex", stdout=out, stderr=StringIO())
    assert "Reindexed 1 documents with local:all-MiniLM-L6-v2: 1 ready." in out.getvalue()
    assert Document.objects.get().embedding_model == "local:all-MiniLM-L6-v2"
    assert retrieve(project=tenant.project, query="tide tables")[0].path == "tides.md"
    again = StringIO()
    call_command("reindex", stdout=again)
    assert "Nothing to reindex" in again.getvalue()
