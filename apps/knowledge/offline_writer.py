"""Fill a document template deterministically, for the offline provider (no AI model).

Slots (``{{entities_table}}`` …, listed in ``doc_templates/README.md``) are filled from the
project's domain model and documents; slots that need judgement become "_To be decided._".
Everything emitted passes ``strip_outside_references``: parts of it come from users' requests
and documents, and the writer must never emit an image or an outside URL.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apps.knowledge.domain_facts import ModelFacts, clean_name, identifier, model_facts
from apps.knowledge.sanitize import strip_outside_references

TO_BE_DECIDED = "_To be decided._"
_SLOT = re.compile(r"\{\{\s*([a-zA-Z_][\w]*)\s*\}\}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SENSITIVE = re.compile(
    r"pass(word)?|secret|token|api_?key|email|phone|address|birth|ssn|iban|card|salary|health|ip_?addr",
    re.IGNORECASE,
)
_MERMAID_ARROWS = {
    "one-to-one": "||--||", "one-to-many": "||--o{", "many-to-one": "}o--||", "many-to-many": "}o--o{",
}
_MAX_REQUEST = 2000

GENERIC_TEMPLATE = """# {{project_name}}

## Request
{{request}}

## Summary
{{summary}}

## Domain model
{{entities_table}}

{{relationships_table}}

## Related documents
{{documents_list}}

## Open questions
{{open_questions}}
"""


class _Context:
    def __init__(self, *, doc_type: str, facts: ModelFacts, documents: dict[str, str],
                 request_text: str, project_name: str) -> None:
        self.doc_type = doc_type
        self.facts = facts
        self.documents = documents
        self.request_text = request_text.strip()[:_MAX_REQUEST]
        self.project_name = clean_name(project_name) or "The project"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _plural(name: str) -> str:
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", name.replace(" ", "-")).lower()
    if slug.endswith("y") and not slug.endswith(("ay", "ey", "oy", "uy")):
        return slug[:-1] + "ies"
    if slug.endswith(("s", "x", "ch", "sh")):
        return slug + "es"
    return slug + "s"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _request(ctx: _Context) -> str:
    if not ctx.request_text:
        return "_No request text was given._"
    return "\n".join(f"> {line}" if line.strip() else ">" for line in ctx.request_text.splitlines())


def _summary(ctx: _Context) -> str:
    facts = ctx.facts
    if not facts.entities:
        return (f"No domain model has been captured for {ctx.project_name} yet; this draft was "
                "written from the request alone.")
    names = ", ".join(entity.name for entity in facts.entities)
    text = (f"{ctx.project_name} is described by {len(facts.entities)} "
            f"entit{'y' if len(facts.entities) == 1 else 'ies'} ({names}) connected by "
            f"{len(facts.relationships)} relationship{'' if len(facts.relationships) == 1 else 's'}.")
    if facts.phase or facts.readiness is not None:
        text += f" The domain model is in the {facts.phase or 'unknown'} phase"
        if facts.readiness is not None:
            text += f" with readiness {facts.readiness}%"
        text += "."
    return text


def _entities_list(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    lines = []
    for entity in ctx.facts.entities:
        fields = ", ".join(f"{f.name} ({f.type})" for f in entity.fields) or "no fields yet"
        lines.append(f"* **{entity.name}** — {fields}")
    return "\n".join(lines)


def _entities_table(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    rows = [[e.name, str(len(e.fields)), ", ".join(f.name for f in e.fields if f.unique) or "—"]
            for e in ctx.facts.entities]
    return _table(["entity", "fields", "unique fields"], rows)


def _entity_details(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    sections = []
    for entity in ctx.facts.entities:
        rows = [[f.name, f.type, "yes" if f.required else "no", "yes" if f.unique else "no",
                 ("one of: " + ", ".join(f.values)) if f.values else ""] for f in entity.fields]
        body = _table(["field", "type", "required", "unique", "notes"], rows) if rows else TO_BE_DECIDED
        sections.append(f"### {entity.name}\n{body}")
    return "\n\n".join(sections)


def _relationships_table(ctx: _Context) -> str:
    if not ctx.facts.relationships:
        return "_No relationships recorded yet._"
    rows = [[r.source, r.target, r.kind, r.name or "—"] for r in ctx.facts.relationships]
    return _table(["from", "to", "type", "name"], rows)


def _er_diagram(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    lines = ["```mermaid", "erDiagram"]
    for entity in ctx.facts.entities:
        lines.append(f"    {identifier(entity.name)} {{")
        lines += [f"        {identifier(f.type)} {identifier(f.name)}" for f in entity.fields]
        lines.append("    }")
    for rel in ctx.facts.relationships:
        arrow = _MERMAID_ARROWS.get(rel.kind, "||--o{")
        label = identifier(rel.name or "has")
        lines.append(f"    {identifier(rel.source)} {arrow} {identifier(rel.target)} : {label}")
    lines.append("```")
    return "\n".join(lines)


def _glossary(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    rows = []
    for entity in ctx.facts.entities:
        related = [f"{r.target} ({r.kind})" for r in ctx.facts.relationships if r.source == entity.name]
        definition = f"A record with {', '.join(f.name for f in entity.fields) or 'no fields yet'}."
        if related:
            definition += f" Related to {', '.join(related)}."
        rows.append([entity.name, definition])
        rows += [[f"{entity.name} {f.name}", "One of: " + ", ".join(f.values) + "."]
                 for f in entity.fields if f.values]
    return _table(["term", "definition"], rows)


def _api_endpoints(ctx: _Context) -> str:
    if not ctx.facts.entities:
        return TO_BE_DECIDED
    rows = []
    for entity in ctx.facts.entities:
        base = f"/api/{_plural(entity.name)}"
        rows += [["GET", f"`{base}`", f"list {entity.name} records"],
                 ["POST", f"`{base}`", f"create a {entity.name}"],
                 ["GET · PATCH · DELETE", f"`{base}/{{id}}`", f"read, change or delete one {entity.name}"]]
    return _table(["method", "path", "purpose"], rows)


def _security_assets(ctx: _Context) -> str:
    rows = [[entity.name, f.name, f.type] for entity in ctx.facts.entities for f in entity.fields
            if _SENSITIVE.search(f.name)]
    if not rows:
        return "_No personal or secret fields recognised in the domain model yet._"
    return _table(["entity", "field", "type"], rows)


def _invariants(ctx: _Context) -> str:
    lines = []
    for entity in ctx.facts.entities:
        lines += [f"* Every {entity.name} has {_article(f.name)} {f.name}." for f in entity.fields if f.required]
        lines += [f"* No two {entity.name} records share the same {f.name}." for f in entity.fields if f.unique]
    for rel in ctx.facts.relationships:
        if rel.kind == "one-to-many":
            lines.append(f"* {_article(rel.target).capitalize()} {rel.target} belongs to exactly one {rel.source}.")
        elif rel.kind == "one-to-one":
            lines.append(f"* {_article(rel.source).capitalize()} {rel.source} has at most one {rel.target}.")
    return "\n".join(lines) or TO_BE_DECIDED


def _constraints(ctx: _Context) -> str:
    lines = []
    for entity in ctx.facts.entities:
        for f in entity.fields:
            if f.unique:
                lines.append(f"* `{entity.name}.{f.name}` is unique.")
            if f.required:
                lines.append(f"* `{entity.name}.{f.name}` is required (NOT NULL).")
    for rel in ctx.facts.relationships:
        lines.append(f"* {rel.source} → {rel.target} ({rel.kind}) is a foreign key with an index.")
    return "\n".join(lines) or TO_BE_DECIDED


def _documents_list(ctx: _Context) -> str:
    own_path = f"{ctx.doc_type}.md"
    lines = []
    for path in sorted(ctx.documents):
        if path == own_path:
            continue
        title = next((line.lstrip("#").strip() for line in ctx.documents[path].splitlines()
                      if line.startswith("#")), "")
        suffix = f" — {clean_name(title)}" if clean_name(title) else ""
        lines.append(f"* `{clean_name(path)}`{suffix}")
    return "\n".join(lines) or "_No other documents yet._"


def _open_questions(ctx: _Context) -> str:
    facts = ctx.facts
    questions = []
    if not facts.entities:
        questions.append("Which things does the system need to keep track of?")
    related = {r.source for r in facts.relationships} | {r.target for r in facts.relationships}
    for entity in facts.entities:
        if not entity.fields:
            questions.append(f"What does a {entity.name} record hold?")
        questions += [f"Which values can {entity.name}.{f.name} take?" for f in entity.fields
                      if f.type == "enum" and not f.values]
        if len(facts.entities) > 1 and entity.name not in related:
            questions.append(f"How does {entity.name} relate to the rest of the model?")
    if facts.readiness is not None and facts.readiness < 100 and facts.entities:
        questions.append(f"What is still missing before the model is ready (readiness {facts.readiness}%)?")
    return "\n".join(f"* {q}" for q in questions) or "* None recorded."


def _title(ctx: _Context) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", ctx.request_text, maxsplit=1)[0].strip() if ctx.request_text else ""
    return clean_name(first) or f"Decision for {ctx.project_name}"


_SLOTS: dict[str, Callable[[_Context], str]] = {
    "project_name": lambda ctx: ctx.project_name,
    "request": _request,
    "summary": _summary,
    "phase": lambda ctx: ctx.facts.phase or "unknown",
    "readiness": lambda ctx: str(ctx.facts.readiness) if ctx.facts.readiness is not None else "0",
    "confidence": lambda ctx: f"{ctx.facts.confidence:.2f}" if ctx.facts.confidence is not None else "n/a",
    "entities_list": _entities_list,
    "entities_table": _entities_table,
    "entity_details": _entity_details,
    "relationships_table": _relationships_table,
    "er_diagram": _er_diagram,
    "glossary": _glossary,
    "api_endpoints": _api_endpoints,
    "security_assets": _security_assets,
    "invariants": _invariants,
    "constraints": _constraints,
    "documents_list": _documents_list,
    "open_questions": _open_questions,
    "title": _title,
}


def render_document(
    *,
    doc_type: str,
    template: str,
    domain_model: dict[str, Any] | None,
    documents: dict[str, str],
    request_text: str,
    project_name: str,
) -> str:
    """Fill ``template`` (or a generic outline when it is empty) without any AI model.

    The same inputs always give the same text. The output never contains a Markdown or HTML
    image, a link target or a URL, whatever the request and documents contain.
    """
    ctx = _Context(doc_type=doc_type, facts=model_facts(domain_model), documents=documents or {},
                   request_text=request_text or "", project_name=project_name)
    body = _COMMENT.sub("", template.strip() or GENERIC_TEMPLATE)
    filled = _SLOT.sub(lambda m: _SLOTS.get(m.group(1), lambda _ctx: TO_BE_DECIDED)(ctx), body)
    filled = re.sub(r"\n{3,}", "\n\n", filled).strip() + "\n"
    return strip_outside_references(filled)
