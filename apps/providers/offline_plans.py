"""The offline provider's plans: it writes real plans in plan mode and works them in build mode.

* Plan mode (``submit_plan`` on offer, or ``context["mode"] == "plan"``): a plan built from
  the chat's domain model (or the nouns of the request when there is none yet) and the
  project's files — a step for the data models, API endpoints and UI for each entity, and
  tests — written as a numbered Markdown list, then stored through ``submit_plan`` the way
  a real model does. Risk follows the relationships: none → low, a few → medium, many or
  many-to-many → high.
* A plan run (``context["plan"]`` with ``update_plan_step`` on offer): the steps in order,
  spread over the tool rounds the engine allows; for each, ``update_plan_step`` running,
  a ``write_file`` per file with generated content, ``update_plan_step`` done; then a summary.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from apps.providers.base import (
    ChatMessage,
    Finish,
    ProviderEvent,
    ProviderRequest,
    StreamMeta,
    TextDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
)

SUBMIT_PLAN = "submit_plan"
UPDATE_PLAN_STEP = "update_plan_step"
WRITE_FILE = "write_file"
MAX_ENTITIES = 8
BUILDER_INTRO = "*Blueprint offline builder — rule-based: it writes starting points, not finished code.*\n\n"
_TOKEN = re.compile(r"\S+\s*|\s+")

Call = tuple[str, dict[str, Any]]


def _offered(request: ProviderRequest) -> set[str]:
    return {tool.name for tool in request.tools}


def plans_stream(request: ProviderRequest, *, token_delay_ms: int | None = None) -> AsyncIterator[ProviderEvent] | None:
    """The offline answer when it concerns plans, else None (the provider answers as usual)."""
    context = request.context or {}
    offered = _offered(request)
    if context.get("doc_type"):
        return None
    if context.get("plan") and UPDATE_PLAN_STEP in offered:
        text, calls = _plan_run_turn(request, context["plan"], offered)
    elif SUBMIT_PLAN in offered or context.get("mode") == "plan":
        text, calls = _planning_turn(request, offered)
    else:
        return None
    delay_ms = token_delay_ms if token_delay_ms is not None else int(getattr(settings, "OFFLINE_TOKEN_DELAY_MS", 0))
    return _stream(request, text, calls, max(0, delay_ms) / 1000)


async def _stream(request: ProviderRequest, text: str, calls: list[Call], delay: float) -> AsyncIterator[ProviderEvent]:
    digest = hashlib.sha1(json.dumps([m.content for m in request.messages]).encode()).hexdigest()[:12]
    yield StreamMeta(request_id=f"offline-{digest}")
    output = 0
    for token in _TOKEN.findall(text):
        if delay:
            await asyncio.sleep(delay)
        output += 1
        yield TextDelta(token)
    for number, (name, arguments) in enumerate(calls):
        call_id = f"call_offline_{digest}_{len(request.messages)}_{number}"
        body = json.dumps(arguments)
        yield ToolCallStart(id=call_id, name=name)
        for start in range(0, len(body), 16):
            yield ToolCallDelta(id=call_id, arguments_delta=body[start:start + 16])
        yield ToolCallEnd(id=call_id)
        output += len(body) // 4 + 1
    prompt = request.system + "".join(m.content for m in request.messages)
    yield Usage(input_tokens=len(prompt) // 4 + 1, output_tokens=output)
    yield Finish("tool_calls" if calls else "stop")


# --- plan mode -----------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("-", "_")


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


def _domain(request: ProviderRequest) -> dict[str, Any]:
    context = request.context or {}
    model = (context.get("domain_model") or {}).get("domainModel") or {}
    if model.get("entities"):
        return model
    user = _last_user(request.messages)
    try:
        from apps.domain.heuristics import extract_update
        from apps.domain.merge import empty_dsl, merge_update, validate_update

        extraction = extract_update(user, empty_dsl())
        return merge_update(empty_dsl(), validate_update(extraction.update))
    except Exception:  # noqa: BLE001 - a rule-based guess never fails the answer
        return {"entities": {}, "relationships": []}


def _last_user(messages: list[ChatMessage]) -> str:
    return next((m.content for m in reversed(messages) if m.role == "user"), "")


def _relationships_of(model: dict[str, Any], entity: str) -> list[dict[str, Any]]:
    return [r for r in model.get("relationships", []) if entity in (r.get("from"), r.get("to"))]


def _risk(relationships: list[dict[str, Any]]) -> str:
    if any(r.get("type") == "many-to-many" for r in relationships) or len(relationships) >= 3:
        return "high"
    return "medium" if relationships else "low"


def _with_existing(planned: list[str], files: list[str], *words: str) -> list[str]:
    """``planned`` plus the project's existing files named after ``words`` (the step updates them)."""
    found = [path for path in files if any(w and w in path.rsplit("/", 1)[-1].lower() for w in words)][:5]
    return list(dict.fromkeys([*planned, *found]))


def plan_steps(model: dict[str, Any], files: list[str]) -> list[dict[str, Any]]:
    """The steps of the offline plan for a domain model and the project's current files."""
    entities = list(model.get("entities", {}))[:MAX_ENTITIES]
    if not entities:
        return [
            {"title": "Describe the domain", "description": "List the things the system keeps track of and how "
             "they relate, so the data model can be drafted.", "files": [], "risk": "low"},
            {"title": "Scaffold the project", "description": "Create the project layout and a README that says "
             "how to run it.", "files": ["README.md"], "risk": "low"},
        ]
    relationships = model.get("relationships", [])
    fields = {name: list((model["entities"][name].get("fields") or {}).keys()) for name in entities}
    steps = [{
        "title": "Create the data models",
        "description": "Models for " + "; ".join(f"{name} ({', '.join(fields[name]) or 'no fields yet'})"
                                                  for name in entities) + ".",
        "files": _with_existing(["backend/models.py"], files, "model"),
        "risk": _risk(relationships) if len(relationships) < 4 else "high",
    }]
    for name in entities:
        snake, related = _snake(name), _relationships_of(model, name)
        links = ", ".join(f"{r['from']} {r['type']} {r['to']}" for r in related)
        steps.append({
            "title": f"API endpoints for {name}",
            "description": f"List, create, read, update and delete {_plural(name)} at /api/{_plural(snake)}"
                           + (f"; relationships: {links}." if links else "."),
            "files": _with_existing([f"backend/api/{_plural(snake)}.py"], files, snake, _plural(snake)),
            "risk": _risk(related),
        })
        steps.append({
            "title": f"UI for {name}",
            "description": f"A list page and a form for {_plural(name)}.",
            "files": [f"frontend/src/pages/{name}List.tsx", f"frontend/src/pages/{name}Form.tsx"],
            "risk": "medium" if any(r.get("type") != "one-to-one" for r in related) else "low",
        })
    steps.append({
        "title": "Write the tests",
        "description": "Tests for the models and endpoints of " + ", ".join(entities) + ".",
        "files": [f"tests/test_{_snake(name)}.py" for name in entities],
        "risk": "low",
    })
    return steps


def plan_markdown(steps: list[dict[str, Any]]) -> str:
    lines = []
    for number, step in enumerate(steps, 1):
        lines.append(f"{number}. **{step['title']}** — {step['description']}")
        if step["files"]:
            lines.append("   Files: " + ", ".join(f"`{path}`" for path in step["files"]))
        lines.append(f"   Risk: {step['risk']}")
    return "\n".join(lines)


def _planning_turn(request: ProviderRequest, offered: set[str]) -> tuple[str, list[Call]]:
    last = request.messages[-1] if request.messages else None
    if last is not None and last.role == "tool":
        try:
            outcome = json.loads(last.content)
        except ValueError:
            outcome = {}
        if isinstance(outcome, dict) and outcome.get("error"):
            return f"\n\nThe plan could not be stored: {outcome['error']}", []
        return ("\n\nThe plan is stored. Edit its steps if you like, then use **Run plan** to build it "
                "in build mode."), []
    context = request.context or {}
    steps = plan_steps(_domain(request), list(context.get("project_files") or []))
    name = context.get("project_name") or "the project"
    text = (f"*Blueprint offline planner — rule-based, no AI model.* A plan for **{name}**, "
            f"from its domain model and files:\n\n{plan_markdown(steps)}")
    calls: list[Call] = [(SUBMIT_PLAN, {"steps": steps, "summary": f"{len(steps)} steps for {name}"})] \
        if SUBMIT_PLAN in offered else []
    return text, calls


# --- a plan run ----------------------------------------------------------------------------


def _reported(messages: list[ChatMessage]) -> tuple[set[int], int]:
    """(step numbers already closed in this run, tool rounds used since the user's message)."""
    closed: set[int] = set()
    rounds = 0
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "assistant" and message.tool_calls:
            rounds += 1
            for call in message.tool_calls:
                if call.name != UPDATE_PLAN_STEP:
                    continue
                try:
                    args = json.loads(call.arguments)
                except ValueError:
                    continue
                if isinstance(args, dict) and args.get("status") in ("done", "failed", "skipped"):
                    closed.add(int(args.get("index", 0)))
    return closed, rounds


def _plan_run_turn(request: ProviderRequest, plan: dict[str, Any], offered: set[str]) -> tuple[str, list[Call]]:
    steps = plan.get("steps") or []
    closed, rounds = _reported(request.messages)
    remaining = [s for s in steps if s["index"] not in closed]
    if not remaining:
        return (f"\n\nAll {len(steps)} steps of the plan are worked through. The files are in the project; "
                "review them and ask for changes."), []
    rounds_left = max(1, int(getattr(settings, "ENGINE_MAX_TOOL_ROUNDS", 6)) - rounds - 1)
    chunk = remaining[: math.ceil(len(remaining) / rounds_left)]
    model = _domain(request)
    text_parts, calls = [], []
    for step in chunk:
        text_parts.append(f"**Step {step['index']} — {step['title']}.** {step.get('description', '')}\n")
        calls.append((UPDATE_PLAN_STEP, {"index": step["index"], "status": "running"}))
        if WRITE_FILE in offered:
            calls.extend((WRITE_FILE, {"path": path, "content": file_content(path, step, model)})
                         for path in step.get("files", []))
        calls.append((UPDATE_PLAN_STEP, {"index": step["index"], "status": "done"}))
    lead = "" if rounds else BUILDER_INTRO
    return lead + "\n".join(text_parts), calls


def file_content(path: str, step: dict[str, Any], model: dict[str, Any]) -> str:
    """A starting point for ``path``: the Django models export for a models file, else a skeleton."""
    header = f"{step['title']}: {step.get('description', '')}"
    if path.endswith("models.py") and model.get("entities"):
        try:
            from apps.domain.exports import export_domain_model

            return export_domain_model(model, "django", title="domain model")[0]
        except Exception:  # noqa: BLE001 - fall back to a skeleton
            pass
    if path.endswith((".tsx", ".ts", ".jsx", ".js")):
        component = re.sub(r"\W", "", path.rsplit("/", 1)[-1].split(".")[0]) or "Page"
        return (f"// {header}\nexport default function {component}() {{\n"
                f"  return <section><h1>{component}</h1></section>;\n}}\n")
    if path.endswith(".py"):
        return f'"""{header}"""\n'
    return f"{header}\n"
