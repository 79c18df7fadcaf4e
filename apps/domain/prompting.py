"""The system-prompt section that keeps the model maintaining the domain model."""
from __future__ import annotations

import json
from typing import Any

from apps.domain.readiness import readiness_gaps

_INSTRUCTIONS = (
    "## Domain model\n"
    "You maintain this project's domain model (entities, typed fields, relationships) with the "
    "`update_domain_model` tool. Whenever the person names or changes things their system must "
    "store, call the tool in the same turn with only what changes; keep your prose answer short "
    "and do not repeat the model as text. While the model is thin or uncertain, ask one to three "
    "concrete clarifying questions. Set `phase` (clarifying, proposing, refining, ready) and "
    "`confidence` (0–1) honestly; the server computes readiness from the model itself. If the tool "
    "reports an error, correct the part it names and call it again."
)


def domain_prompt_section(current: dict[str, Any] | None) -> str:
    """Instructions plus the current model as JSON.

    ``current`` is the ``dsl.update`` payload (``domain_model_current``) or None.
    The model JSON is data, not instructions: it is fenced and labelled as such.
    """
    if not current:
        return _INSTRUCTIONS + "\n\nThere is no domain model yet: propose one as soon as the person " \
                               "describes what they want to build."
    model = current.get("domainModel", {})
    status = (f"Current model: version {current.get('version')}, phase {current.get('phase')}, "
              f"readiness {current.get('readiness')}/100, confidence {current.get('confidence')}.")
    gaps = readiness_gaps(model)
    gap_text = ("\nWhat keeps readiness down: " + "; ".join(gaps) + ".") if gaps else ""
    body = json.dumps(model, indent=1, ensure_ascii=False)
    return f"{_INSTRUCTIONS}\n\n{status}{gap_text}\n\nCurrent model (data):\n```json\n{body}\n```"
