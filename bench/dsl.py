"""Benchmark: incremental parsing of streamed update_domain_model arguments.

A 200-entity domain model is serialised as the tool's arguments and cut into deltas of
1–4 characters (as providers stream them). We time the whole incremental path — every
``DomainArgumentStream.feed`` (with its previews) plus ``finish`` — against one full parse
of the final text (``json.loads`` + ``validate_update``). Linear work keeps the ratio
small and constant; quadratic work would grow with the model. A 2× model checks that.

    .venv/bin/python bench/dsl.py            # 15 repetitions
    .venv/bin/python bench/dsl.py --quick    # same sizes, 5 repetitions

Prints a table, then (last line) one JSON object with ``incremental_over_full``.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.domain.merge import validate_update
from apps.domain.streaming import DomainArgumentStream

STATUSES = ["draft", "active", "suspended", "archived"]


def build_model(entities: int, seed: int = 42) -> dict[str, Any]:
    """A model shaped like real ones: 5–9 typed fields, enums, references, relationships."""
    rng = random.Random(seed)
    model: dict[str, Any] = {"entities": {}, "relationships": [], "phase": "proposing", "confidence": 0.8}
    names = [f"Entity{i:03d}" for i in range(entities)]
    for index, name in enumerate(names):
        fields: dict[str, Any] = {
            "id": {"type": "uuid", "required": True},
            "name": {"type": "string", "required": True},
            "status": {"type": "enum", "values": STATUSES[: rng.randint(2, 4)], "default": "draft"},
            "createdAt": {"type": "datetime", "required": True, "default": "now"},
        }
        extras = [("amount", {"type": "decimal"}), ("notes", {"type": "text"}),
                  ("active", {"type": "boolean", "required": True, "default": True}),
                  ("quantity", {"type": "integer", "default": 0}), ("dueDate", {"type": "date"}),
                  ("email", {"type": "string", "required": True, "unique": True})]
        for key, definition in rng.sample(extras, rng.randint(1, 4)):
            fields[key] = definition
        if index:
            parent = names[rng.randrange(index)]
            fields[f"parent{index}Id"] = {"type": "uuid", "required": True}
            model["relationships"].append({"from": name, "to": parent, "type": "many-to-one",
                                           "name": f"parent{index}"})
        model["entities"][name] = {"fields": fields}
    for _ in range(entities // 4):
        a, b = rng.sample(names, 2)
        model["relationships"].append({"from": a, "to": b, "type": "many-to-many", "name": f"link{a[-3:]}{b[-3:]}"})
    return model


def cut(text: str, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    deltas, i = [], 0
    while i < len(text):
        size = rng.randint(1, 4)
        deltas.append(text[i:i + size])
        i += size
    return deltas


def incremental(deltas: list[str]) -> int:
    parser = DomainArgumentStream(None)
    previews = 0
    for delta in deltas:
        previews += len(parser.feed(delta))
    parser.finish()
    return previews


def full(text: str) -> None:
    validate_update(json.loads(text))


def timed(fn: Callable[[], Any], repetitions: int) -> list[float]:
    samples = []
    for _ in range(repetitions):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
        gc.enable()
    return samples


def measure(entities: int, repetitions: int) -> dict[str, Any]:
    text = json.dumps(build_model(entities))
    deltas = cut(text)
    previews = incremental(deltas)  # warm-up, and the preview count
    inc, ful = [], []
    for _ in range(repetitions):  # interleaved, so machine noise hits both alike
        inc += timed(lambda: incremental(deltas), 1)
        ful += timed(lambda: full(text), 1)
    return {"entities": entities, "chars": len(text), "deltas": len(deltas), "previews": previews,
            "incremental_ms": statistics.median(inc) * 1000, "incremental_min_ms": min(inc) * 1000,
            "full_ms": statistics.median(ful) * 1000, "full_min_ms": min(ful) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="same sizes, fewer repetitions")
    args = parser.parse_args()
    repetitions = 5 if args.quick else 15
    main_run = measure(200, repetitions)
    double = measure(400, max(3, repetitions // 3))
    ratio = main_run["incremental_ms"] / main_run["full_ms"]
    ratio_double = double["incremental_ms"] / double["full_ms"]
    rows = [
        ("entities", f"{main_run['entities']}", f"{double['entities']}"),
        ("argument JSON (chars)", f"{main_run['chars']:,}", f"{double['chars']:,}"),
        ("deltas (1–4 chars)", f"{main_run['deltas']:,}", f"{double['deltas']:,}"),
        ("dsl.update previews", f"{main_run['previews']}", f"{double['previews']}"),
        ("incremental, median (ms)", f"{main_run['incremental_ms']:.2f}", f"{double['incremental_ms']:.2f}"),
        ("full parse, median (ms)", f"{main_run['full_ms']:.2f}", f"{double['full_ms']:.2f}"),
        ("incremental / full", f"{ratio:.2f}×", f"{ratio_double:.2f}×"),
        ("incremental per delta (µs)", f"{main_run['incremental_ms'] * 1000 / main_run['deltas']:.2f}",
         f"{double['incremental_ms'] * 1000 / double['deltas']:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"bench/dsl.py — incremental tool-argument parsing ({repetitions} repetitions, medians)")
    print(f"{'':{width}}  {'model':>12}  {'2× model':>12}")
    for label, a, b in rows:
        print(f"{label:{width}}  {a:>12}  {b:>12}")
    growth = double["incremental_ms"] / main_run["incremental_ms"]
    print(f"target: incremental ≤ 3× full → {'met' if ratio <= 3 else 'NOT met'}; "
          f"2× input costs {growth:.2f}× (linear ≈ 2, quadratic ≈ 4)")
    print(json.dumps({
        "entities": main_run["entities"], "chars": main_run["chars"], "deltas": main_run["deltas"],
        "previews": main_run["previews"], "incremental_ms": round(main_run["incremental_ms"], 3),
        "full_ms": round(main_run["full_ms"], 3), "incremental_over_full": round(ratio, 3),
        "incremental_over_full_2x": round(ratio_double, 3), "growth_at_2x": round(growth, 3),
        "repetitions": repetitions,
    }))


if __name__ == "__main__":
    main()
