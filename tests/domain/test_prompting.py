"""The system-prompt section that keeps the model maintaining the domain model."""
from __future__ import annotations

import json

from apps.domain.prompting import domain_prompt_section
from apps.domain.schema import validate_dsl


def test_without_a_model_it_asks_for_a_first_proposal() -> None:
    text = domain_prompt_section(None)
    assert "update_domain_model" in text and "no domain model yet" in text


def test_with_a_model_it_carries_the_json_and_the_gaps() -> None:
    model = validate_dsl({"entities": {"Post": {"fields": {"id": {"type": "uuid"}, "title": {"type": "string"}}},
                                       "Tag": {"fields": {"id": {"type": "uuid"}}}}})
    payload = {"domainModel": model, "version": 2, "phase": "proposing", "readiness": 48, "confidence": 0.6}
    text = domain_prompt_section(payload)
    assert "version 2, phase proposing, readiness 48/100" in text
    assert "Tag is not related to any other entity" in text
    body = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(body) == model
