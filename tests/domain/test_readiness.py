"""The readiness rubric and the phase machine."""
from __future__ import annotations

from apps.domain.readiness import next_phase, readiness_gaps, readiness_report, readiness_score
from apps.domain.schema import validate_dsl
from tests.domain.models_fixtures import blog


def test_rubric_adds_up_to_100() -> None:
    assert sum(c.points for c in readiness_report(blog())) == 100


def test_complete_blog_scores_full_and_empty_scores_zero() -> None:
    assert readiness_score(blog()) == 100
    assert readiness_score({"entities": {}, "relationships": []}) == 0


def test_each_gap_costs_points() -> None:
    thin = validate_dsl({
        "entities": {
            "Post": {"fields": {"title": {"type": "string"}, "authorId": {"type": "uuid"},
                                "status": {"type": "enum"}, "data": {"type": "json"}}},
            "Author": {"fields": {"id": {"type": "uuid"}, "name": {"type": "string"}, "bio": {"type": "text"}}},
            "Tag": {"fields": {"id": {"type": "uuid"}}},
        },
        "relationships": [],
    })
    report = {c.name: c for c in readiness_report(thin)}
    assert report["keys"].score == 2 / 3  # Post has no key
    assert report["enums"].score == 0  # status has no values
    assert report["references"].score == 0  # authorId is not backed by a relationship
    assert report["connected"].score == 0 and report["relationships"].score == 0
    assert report["typed"].score == 7 / 8  # one json field of eight
    gaps = readiness_gaps(thin, limit=20)
    assert "Post has no key" in gaps and "Post.authorId is not backed by a relationship" in gaps
    low = readiness_score(thin)
    fixed = validate_dsl({**thin, "relationships": [{"from": "Post", "to": "Author", "type": "many-to-one"}]})
    assert readiness_score(fixed) > low


def test_phase_machine() -> None:
    assert next_phase(None, entity_count=0, readiness=0, confidence=0.9, changed=False) == "clarifying"
    # a first proposal always goes back to the person
    assert next_phase(None, entity_count=4, readiness=100, confidence=0.9, changed=True) == "proposing"
    assert next_phase("clarifying", entity_count=4, readiness=40, confidence=0.3, changed=True) == "proposing"
    assert next_phase("proposing", entity_count=4, readiness=60, confidence=0.5, changed=True) == "refining"
    assert next_phase("proposing", entity_count=4, readiness=60, confidence=0.5, changed=False) == "proposing"
    assert next_phase("refining", entity_count=4, readiness=90, confidence=0.8, changed=True) == "ready"
    assert next_phase("ready", entity_count=4, readiness=70, confidence=0.8, changed=True) == "refining"
    # the model's wish counts only where the rubric allows it
    assert next_phase("refining", entity_count=4, readiness=50, confidence=1, changed=True,
                      requested="ready") == "refining"
    assert next_phase("refining", entity_count=4, readiness=95, confidence=0.9, changed=False,
                      requested="clarifying") == "clarifying"
    assert next_phase("ready", entity_count=0, readiness=0, confidence=1, changed=True) == "clarifying"
