"""DomainArgumentStream: previews only of complete, valid parts; linear; exact final parse."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest

from apps.domain.errors import DomainValidationError
from apps.domain.merge import merge_update, validate_update
from apps.domain.streaming import DomainArgumentStream
from tests.domain.models_fixtures import blog
from tests.domain.seed import SEED_BLOG_JSON, seed_blog


def stream(text: str, current: dict[str, Any] | None = None, seed: int = 0,
           sizes: tuple[int, int] = (1, 4)) -> tuple[DomainArgumentStream, list[dict[str, Any]]]:
    parser = DomainArgumentStream(current)
    rng = random.Random(seed)
    previews: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        size = rng.randint(*sizes)
        previews += parser.feed(text[i:i + size])
        i += size
    return parser, previews


def final_model(arguments: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    return merge_update((current or {}).get("domainModel"), validate_update(arguments))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("layout", ["seed", "compact", "pretty"])
def test_previews_hold_only_complete_valid_parts(seed: int, layout: str) -> None:
    text = {"seed": SEED_BLOG_JSON, "compact": json.dumps(seed_blog(), separators=(",", ":")),
            "pretty": json.dumps(seed_blog(), indent=4)}[layout]
    parser, previews = stream(text, seed=seed)
    final = final_model(seed_blog())
    assert parser.finish() == seed_blog()
    assert len(previews) >= 10  # the panel fills in as the model streams
    seen_fields = 0
    for preview in previews:
        assert preview["partial"] is True and preview["version"] == 0
        entities = preview["domainModel"]["entities"]
        for name, entity in entities.items():
            assert name in final["entities"]  # never half an entity name
            for field, definition in entity["fields"].items():
                # never half a field name, never a truncated enum value or default
                assert final["entities"][name]["fields"][field] == definition
        for rel in preview["domainModel"]["relationships"]:
            assert rel["from"] in entities and rel["to"] in entities
            assert rel in final["relationships"]
        assert preview["confidence"] in (0.0, 0.85)  # never 0.8 of 0.85
        count = sum(len(e["fields"]) for e in entities.values())
        assert count >= seen_fields  # monotone: nothing flickers away
        seen_fields = count
    assert previews[-1]["domainModel"] == final
    assert previews[-1]["confidence"] == 0.85


def test_a_relationship_waits_for_its_entities() -> None:
    arguments = {"relationships": [{"from": "Comment", "to": "Post", "type": "many-to-one"}],
                 "entities": {"Post": {"fields": {"id": {"type": "uuid"}}},
                              "Comment": {"fields": {"id": {"type": "uuid"}}}}}
    _, previews = stream(json.dumps(arguments), seed=3)
    with_rel = [p for p in previews if p["domainModel"]["relationships"]]
    assert with_rel and all("Comment" in p["domainModel"]["entities"] for p in with_rel)
    assert not any(p["domainModel"]["relationships"] for p in previews
                   if "Comment" not in p["domainModel"]["entities"])


def test_invalid_parts_are_not_previewed_and_finish_returns_everything() -> None:
    arguments = {"entities": {"Post": {"fields": {
        "id": {"type": "uuid"}, "title": {"type": "varchar"}, "status": {"type": "enum", "values": ["a", "b"]}}}}}
    parser, previews = stream(json.dumps(arguments))
    fields = previews[-1]["domainModel"]["entities"]["Post"]["fields"]
    assert set(fields) == {"id", "status"}
    assert parser.rejected == ["entities.Post.fields.title"]
    assert parser.finish() == arguments


def test_previews_start_from_the_current_model_and_apply_removals() -> None:
    current = {"domainModel": blog(), "version": 4, "phase": "refining", "readiness": 100, "confidence": 0.7}
    arguments = {"remove": {"entities": ["Tag"]},
                 "rename": {"fields": [{"entity": "Post", "from": "content", "to": "body"}]},
                 "entities": {"Post": {"fields": {"views": {"type": "integer"}}}}}
    _, previews = stream(json.dumps(arguments), current=current, seed=5)
    last = previews[-1]
    assert last["version"] == 4 and last["phase"] == "refining"
    assert "Tag" not in last["domainModel"]["entities"]
    assert {"body", "views"} <= set(last["domainModel"]["entities"]["Post"]["fields"])
    assert last["domainModel"] == final_model(arguments, current)
    assert current["domainModel"] == blog()  # the caller's payload is not mutated


def test_escaped_keys_and_strings_with_structural_characters() -> None:
    arguments = {"entities": {"Note": {"description": "a, b} and ] c \"quoted\" \\ done", "fields": {
        "id": {"type": "uuid"}, "body": {"type": "text", "default": "x, y}]"}}}}}
    text = json.dumps(arguments).replace('"body"', '"\\u0062ody"')
    parser, previews = stream(text, seed=1)
    note = previews[-1]["domainModel"]["entities"]["Note"]
    assert note["fields"]["body"]["default"] == "x, y}]"
    assert note["description"] == arguments["entities"]["Note"]["description"]
    assert parser.finish() == arguments


def test_invalid_json_is_refused_at_finish() -> None:
    parser, _ = stream('{"entities": {"Post": {"fields": {"id": {"type": "uuid"}}}')
    with pytest.raises(DomainValidationError, match="not valid JSON"):
        parser.finish()
    with pytest.raises(DomainValidationError, match="without arguments"):
        DomainArgumentStream(None).finish()
    broken = DomainArgumentStream(None)
    assert broken.feed("[1, 2]") == []
    with pytest.raises(DomainValidationError, match="JSON object"):
        broken.finish()


def _big_model(entities: int) -> dict[str, Any]:
    model: dict[str, Any] = {"entities": {}, "relationships": []}
    for i in range(entities):
        fields = {"id": {"type": "uuid", "required": True}, "name": {"type": "string", "required": True},
                  "status": {"type": "enum", "values": ["new", "done"]}, "createdAt": {"type": "datetime"}}
        model["entities"][f"Entity{i}"] = {"fields": fields}
        if i:
            model["relationships"].append({"from": f"Entity{i}", "to": f"Entity{i - 1}", "type": "many-to-one"})
    return model


def test_previews_are_throttled_so_snapshot_work_stays_linear() -> None:
    model = _big_model(200)
    parser, previews = stream(json.dumps(model), seed=2)
    parts = 200 + 800 + 199
    # every part while small, then one per 1/32 growth: far fewer snapshots than parts
    assert 40 < len(previews) < parts // 4
    assert parser.snapshot()["domainModel"] == final_model(model)


def test_work_grows_linearly_with_size() -> None:
    import time

    def cost(n: int) -> float:
        text = json.dumps(_big_model(n))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            stream(text, seed=1)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = cost(50), cost(400)
    assert large / small < 8 * 2.5  # 8× the input; quadratic work would be ~64×
