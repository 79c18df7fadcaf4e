#!/usr/bin/env python
"""Benchmark: project knowledge at 100,000 chunks (384-d) in one project among others.

Data: synthetic *clustered* unit vectors (2,000 random centroids on the 384-d sphere, each
chunk a centroid plus Gaussian noise, cosine ≈ 0.75 to its centroid), so neighbourhoods are
crowded the way real embeddings are; every project draws from the same centroids, so the
project filter has to work. Loaded once (binary COPY, then one HNSW build) into a dedicated
database on the same server (``blueprint_bench_rag``) and reused while the counts match:
the target project (100,000 chunks), four other projects (25,000 each) and a small project
(1,000 chunks) whose searches only succeed through iterative index scans.

Measures
* ingest: embedding throughput of the real local model on chunks of this repository's own
  documents and code; bulk-insert throughput of chunks into the indexed table (no
  embedding); the end-to-end ``document_upload`` pipeline (chunk + embed + insert).
* search: ``search_vectors`` — the SQL path of ``retrieve()`` with the project filter — for
  ef_search values until recall@10 against exact search reaches 0.95, then p50/p95/p99 at
  that ef_search; the small project's recall and p95; query embedding time.

Prints a table, and as its last line one JSON object.

    .venv/bin/python bench/rag.py [--quick] [--queries N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATABASE = "blueprint_bench_rag"
WORKSPACE = "bench-rag"
DIMENSIONS = 384
CENTROIDS = 2000
NOISE = 0.045
CHUNKS_PER_DOCUMENT = 100
TARGET = ("target", 100_000)
OTHERS = [(f"other-{i}", 25_000) for i in range(1, 5)]
SMALL = ("small", 1_000)
EF_CANDIDATES = [10, 20, 40, 64, 100, 150, 200, 300, 400]
K = 10


# --- database ------------------------------------------------------------------------------

def _server_url(database: str) -> str:
    configured = os.environ.get("DATABASE_URL", "")
    if configured:
        return urlunsplit(urlsplit(configured)._replace(path=f"/{database}"))
    from config.embedded_db import ensure_running

    params = ensure_running(os.environ.get("EMBEDDED_PG_DATA", str(ROOT / "var" / "pgdata")))
    return f"postgresql://{params['user']}@/{database}?host={quote(params['host'], safe='')}&port={params['port']}"


def _connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), **kwargs)


def _setup(url: str) -> None:
    from psycopg import sql

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with _connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            print(f"created database {DATABASE}", file=sys.stderr)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")  # one connection, as a deployment keeps it
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data ----------------------------------------------------------------------------------

def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def _centroids() -> np.ndarray:
    return _unit(np.random.default_rng(1).standard_normal((CENTROIDS, DIMENSIONS)))


def _points(rng: np.random.Generator, centroids: np.ndarray, count: int) -> np.ndarray:
    picks = rng.integers(0, len(centroids), count)
    return _unit(centroids[picks] + rng.normal(0, NOISE, (count, DIMENSIONS)))


def _projects() -> dict[str, Any]:
    from apps.core.models import Workspace
    from apps.projects.models import Project

    workspace, _ = Workspace.objects.get_or_create(name=WORKSPACE)
    return {
        name: Project.objects.get_or_create(workspace=workspace, name=f"bench-rag-{name}")[0]
        for name, _ in [TARGET, *OTHERS, SMALL, ("scratch", 0)]
    }


def _loaded(projects: dict[str, Any]) -> bool:
    from apps.knowledge.models import Chunk

    expected = {name: count for name, count in [TARGET, *OTHERS, SMALL]}
    return all(Chunk.objects.filter(project=projects[name]).count() == count for name, count in expected.items())


def _load(url: str, projects: dict[str, Any], model_id: str) -> dict[str, float]:
    """Truncate, COPY every project's chunks, then build the HNSW index once."""
    from pgvector.psycopg import register_vector

    centroids = _centroids()
    rng = np.random.default_rng(2)
    started = time.perf_counter()
    rows = 0
    with _connect(url) as conn:
        register_vector(conn)
        conn.execute("TRUNCATE knowledge_chunk, knowledge_document")
        conn.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw")
        for name, count in [TARGET, *OTHERS, SMALL]:
            project_id = projects[name].pk
            documents = [uuid.uuid4() for _ in range(max(1, count // CHUNKS_PER_DOCUMENT))]
            with conn.cursor().copy(
                "COPY knowledge_document (id, project_id, path, doc_type, content, checksum, source, status, "
                "error, embedding_model, chunk_count, created_at, updated_at) FROM STDIN"
            ) as copy:
                for index, document_id in enumerate(documents):
                    copy.write_row((document_id, project_id, f"bench/{name}/{index:05d}.md", "UNSORTED", "",
                                    f"{index:064d}", "uploaded", "ready", "", model_id, CHUNKS_PER_DOCUMENT,
                                    "now", "now"))
            vectors = _points(rng, centroids, count)
            with conn.cursor().copy(
                "COPY knowledge_chunk (document_id, project_id, ordinal, text, heading_path, embedding, "
                "token_count, char_count) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "uuid", "int4", "text", "text", "vector", "int4", "int4"])
                for index in range(count):
                    text = f"synthetic chunk {index} of {name}"
                    copy.write_row((documents[index // CHUNKS_PER_DOCUMENT % len(documents)], project_id,
                                    index % CHUNKS_PER_DOCUMENT, text, "", vectors[index], 5, len(text)))
            rows += count
            print(f"  copied {count} chunks into {name}", file=sys.stderr)
        conn.commit()
        copied = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        conn.execute("CREATE INDEX chunk_embedding_hnsw ON knowledge_chunk USING hnsw (embedding vector_cosine_ops) "
                     "WITH (m = 16, ef_construction = 64)")
        conn.execute("ANALYZE knowledge_chunk")
        conn.execute("ANALYZE knowledge_document")
        conn.commit()
    built = time.perf_counter()
    return {"copy_rows_per_s": rows / (copied - started), "index_build_s": built - copied}


# --- ingest --------------------------------------------------------------------------------

def _repository_files() -> dict[str, Path]:
    """This repository's documentation and code (plus the shared SPEC when present)."""
    files = [*ROOT.glob("docs/*.md"), Path("/work/shared/SPEC.md"), *ROOT.glob("apps/*/*.py")]
    return {(str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else f.name): f for f in files if f.exists()}


def _repository_chunks(limit: int) -> list[tuple[str, Any]]:
    from apps.knowledge.chunking import chunk_document

    chunks: list[tuple[str, Any]] = []
    for path, file in _repository_files().items():
        chunks += [(path, chunk) for chunk in chunk_document(path=path, content=file.read_text())]
        if len(chunks) >= limit:
            break
    return chunks[:limit]


def _measure_ingest(projects: dict[str, Any], *, sample: int, inserts: int) -> dict[str, float]:
    from django.db import transaction

    from apps.knowledge.embeddings import get_embedder
    from apps.knowledge.ingestion import embedding_input
    from apps.knowledge.models import Chunk, Document
    from apps.knowledge.services import document_upsert

    embedder = get_embedder()
    embedder.embed(["warm up the model"])
    chunks = _repository_chunks(sample)
    texts = [embedding_input(path=path, chunk=chunk) for path, chunk in chunks]
    started = time.perf_counter()
    embedder.embed(texts)
    embed_rate = len(texts) / (time.perf_counter() - started)

    scratch = projects["scratch"]
    Document.objects.filter(project=scratch).delete()
    document = Document.objects.create(project=scratch, path="bench/insert.md", checksum="0", status="ready",
                                       embedding_model=embedder.model_id)
    vectors = _points(np.random.default_rng(3), _centroids(), inserts)
    started = time.perf_counter()
    with transaction.atomic():
        Chunk.objects.bulk_create(
            [Chunk(document=document, project=scratch, ordinal=i, text=f"insert {i}", embedding=vectors[i],
                   token_count=2, char_count=8) for i in range(inserts)],
            batch_size=500,
        )
    insert_rate = inserts / (time.perf_counter() - started)
    document.delete()

    sources = _repository_files()
    started = time.perf_counter()
    total = 0
    for name in sorted({path for path, _ in chunks}):
        result = document_upsert(project=scratch, path=f"bench/{name}", content=sources[name].read_text(),
                                 source="uploaded", mode="inline")
        total += result.document.chunk_count
    pipeline_rate = total / (time.perf_counter() - started)
    Document.objects.filter(project=scratch).delete()
    return {"embed_chunks_per_s": embed_rate, "insert_chunks_per_s": insert_rate,
            "ingest_chunks_per_s": pipeline_rate, "ingest_sample_chunks": total}


# --- search --------------------------------------------------------------------------------

def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _search(project: Any, vector: np.ndarray, model_id: str, *, ef: int | None, exact: bool = False) -> list[int]:
    from apps.knowledge.retrieval import search_vectors

    hits = search_vectors(project_id=project.pk, vector=vector.tolist(), limit=K, model_id=model_id,
                          ef_search=ef, exact=exact)
    return [hit.chunk_id for hit in hits]


def _recall_and_latency(project: Any, queries: np.ndarray, truth: list[set[int]], model_id: str,
                        ef: int, repeat: int) -> tuple[float, list[float], int]:
    found = 0
    short = 0
    latencies: list[float] = []
    for round_ in range(repeat):
        for vector, expected in zip(queries, truth, strict=True):
            started = time.perf_counter()
            ids = _search(project, vector, model_id, ef=ef)
            latencies.append((time.perf_counter() - started) * 1000)
            if round_ == 0:
                found += len(set(ids) & expected)
                short += len(ids) < K
    return found / (K * len(queries)), latencies, short


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same data, fewer repetitions")
    parser.add_argument("--queries", type=int, default=None)
    args = parser.parse_args()
    queries_n = args.queries or (100 if args.quick else 300)
    repeat = 2 if args.quick else 5

    url = _server_url(DATABASE)
    _setup(url)
    from apps.knowledge.embeddings import current_model_id, get_embedder

    model_id = current_model_id()
    projects = _projects()
    load: dict[str, float] = {}
    if not _loaded(projects):
        print("loading synthetic chunks (once; reused by later runs)…", file=sys.stderr)
        load = _load(url, projects, model_id)
    ingest = _measure_ingest(projects, sample=96 if args.quick else 256, inserts=2000 if args.quick else 5000)

    queries = _points(np.random.default_rng(4), _centroids(), queries_n)
    target, small = projects[TARGET[0]], projects[SMALL[0]]
    print("exact search for the ground truth…", file=sys.stderr)
    truth = [set(_search(target, q, model_id, ef=None, exact=True)) for q in queries]
    small_truth = [set(_search(small, q, model_id, ef=None, exact=True)) for q in queries]

    sweep: list[tuple[int, float, float]] = []
    chosen = EF_CANDIDATES[-1]
    for ef in EF_CANDIDATES:
        recall, latencies, _ = _recall_and_latency(target, queries, truth, model_id, ef, 1)
        sweep.append((ef, recall, _percentile(latencies, 0.95)))
        if recall >= 0.95:
            chosen = ef
            break
    recall, latencies, short = _recall_and_latency(target, queries, truth, model_id, chosen, repeat)
    small_recall, small_latencies, small_short = _recall_and_latency(small, queries, small_truth, model_id,
                                                                     chosen, repeat)
    from django.conf import settings

    app_ef = int(getattr(settings, "KNOWLEDGE_HNSW_EF_SEARCH", 100))
    app_recall, app_latencies, _ = _recall_and_latency(target, queries, truth, model_id, app_ef, 1)
    embedder = get_embedder()
    embed_ms = []
    for index in range(20):
        started = time.perf_counter()
        embedder.embed([f"how are berth invoices calculated, question {index}?"])
        embed_ms.append((time.perf_counter() - started) * 1000)

    rows = [
        ("data", f"{TARGET[1]:,} target + {sum(c for _, c in OTHERS):,} others + {SMALL[1]:,} small, "
                 f"{DIMENSIONS}-d synthetic clustered"),
        *[(f"load: {key}", f"{value:,.1f}") for key, value in load.items()],
        ("embed (local model, repo chunks)", f"{ingest['embed_chunks_per_s']:,.1f} chunks/s"),
        ("bulk insert into HNSW table", f"{ingest['insert_chunks_per_s']:,.1f} chunks/s"),
        ("ingest pipeline (chunk+embed+insert)",
         f"{ingest['ingest_chunks_per_s']:,.1f} chunks/s ({ingest['ingest_sample_chunks']:.0f} chunks)"),
        *[(f"ef_search={ef}", f"recall@10 {r:.3f}, p95 {p:.2f} ms") for ef, r, p in sweep],
        (f"target search @ef={chosen}", f"recall@10 {recall:.3f}, p50 {_percentile(latencies, 0.5):.2f} ms, "
                                        f"p95 {_percentile(latencies, 0.95):.2f} ms, "
                                        f"p99 {_percentile(latencies, 0.99):.2f} ms, short {short}"),
        (f"target search @app default ef={app_ef}", f"recall@10 {app_recall:.3f}, "
                                                     f"p95 {_percentile(app_latencies, 0.95):.2f} ms"),
        (f"small-project search @ef={chosen}", f"recall@10 {small_recall:.3f}, "
                                               f"p95 {_percentile(small_latencies, 0.95):.2f} ms, short {small_short}"),
        ("query embedding (local)", f"p50 {statistics.median(embed_ms):.1f} ms"),
        ("queries × repetitions", f"{queries_n} × {repeat}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    print(json.dumps({
        "search_p95_ms": round(_percentile(latencies, 0.95), 3),
        "search_p50_ms": round(_percentile(latencies, 0.5), 3),
        "recall_at_10": round(recall, 4),
        "ef_search": chosen,
        "small_project_recall_at_10": round(small_recall, 4),
        "small_project_p95_ms": round(_percentile(small_latencies, 0.95), 3),
        "ingest_chunks_per_s": round(ingest["ingest_chunks_per_s"], 1),
        "embed_chunks_per_s": round(ingest["embed_chunks_per_s"], 1),
        "insert_chunks_per_s": round(ingest["insert_chunks_per_s"], 1),
        "query_embedding_p50_ms": round(statistics.median(embed_ms), 2),
        "chunks": TARGET[1], "dimensions": DIMENSIONS, "vectors": "synthetic-clustered",
        "queries": queries_n, "repeat": repeat,
    }))


if __name__ == "__main__":
    main()
