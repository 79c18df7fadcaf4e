"""Executes one run: provider stream → tools → events, until exactly one terminal event."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.engine import events as ev
from apps.engine import plan_hooks, store
from apps.engine.db import run_db, write_db
from apps.engine.prompting import (
    HistoryTurn,
    PreparedPrompt,
    PromptInput,
    compaction_split,
    estimate_tokens,
    extractive_summary,
    prepare_prompt,
)
from apps.engine.runtime import ActiveRun
from apps.engine.tools import UPDATE_DOMAIN_MODEL, ToolFailed, execute_tool
from apps.providers import base as pb

logger = logging.getLogger(__name__)


class IdleTimeout(Exception):
    pass


@dataclass
class RunContext:
    """Everything a run needs besides its ActiveRun."""

    prompt_input: PromptInput
    model_info: Any  # apps.providers.registry.ModelInfo
    provider: Any  # apps.providers.base.Provider
    workspace_id: str
    reserved_credit: Decimal
    temperature: float | None = None
    max_tokens: int | None = None
    reasoning: bool = False
    plan_id: str | None = None  # the plan this run executes ("Run plan"), see plan_hooks


@dataclass
class _Progress:
    input_tokens: int = 0
    output_tokens: int = 0
    usage_reported: bool = False
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    request_id: str = ""
    prompt_tokens_estimate: int = 0
    sources: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _PendingCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    dsl_stream: Any = None
    previewed: bool = False  # dsl.update previews went out for this call


def _cost(ctx: RunContext, input_tokens: int, output_tokens: int) -> Decimal:
    from apps.providers.pricing import cost_for

    return cost_for(ctx.model_info, input_tokens, output_tokens)


async def _stream_round(
    active: ActiveRun,
    ctx: RunContext,
    request: pb.ProviderRequest,
    progress: _Progress,
    domain_current: dict[str, Any] | None,
) -> list[_PendingCall]:
    """One provider call. Returns the tool calls the model made (complete)."""
    from apps.providers.retry import stream_with_retries

    calls: dict[str, _PendingCall] = {}
    finished: list[_PendingCall] = []
    idle = settings.PROVIDER_IDLE_TIMEOUT_S
    loop = asyncio.get_running_loop()
    stream = stream_with_retries(
        ctx.provider,
        request,
        max_attempts=settings.PROVIDER_MAX_RETRIES + 1,
        base_delay=settings.PROVIDER_RETRY_BASE_DELAY_S,
        max_delay=settings.PROVIDER_RETRY_MAX_DELAY_S,
    )
    # The deadline moves at most every ``step`` (not per token): the cut-off comes after
    # between ``idle`` and ``idle + step`` seconds of silence.
    step = min(1.0, idle / 4)
    moved = loop.time()
    try:
        async with asyncio.timeout(idle) as deadline:
            async for item in stream:
                now = loop.time()
                if now - moved >= step:
                    deadline.reschedule(now + idle)
                    moved = now
                if isinstance(item, pb.TextDelta):
                    if item.text:
                        active.text_parts.append(item.text)
                        active.text_dirty = True
                        active.emit(ev.MESSAGE_DELTA, {"delta": item.text})
                elif isinstance(item, pb.ReasoningDelta):
                    if item.text:
                        progress.reasoning.append(item.text)
                        active.emit(ev.REASONING_DELTA, {"delta": item.text})
                elif isinstance(item, pb.ToolCallStart):
                    call = _PendingCall(id=item.id, name=item.name)
                    if item.name == UPDATE_DOMAIN_MODEL:
                        from apps.domain.streaming import DomainArgumentStream

                        call.dsl_stream = DomainArgumentStream(domain_current)
                    calls[item.id] = call
                elif isinstance(item, pb.ToolCallDelta):
                    pending = calls.get(item.id)
                    if pending is not None:
                        pending.arguments.append(item.arguments_delta)
                        if pending.dsl_stream is not None:
                            for payload in _safe_feed(pending, item.arguments_delta):
                                pending.previewed = True
                                active.emit(ev.DSL_UPDATE, payload)
                elif isinstance(item, pb.ToolCallEnd):
                    ended = calls.pop(item.id, None)
                    if ended is not None:
                        finished.append(ended)
                elif isinstance(item, pb.Usage):
                    progress.input_tokens += item.input_tokens
                    progress.output_tokens += item.output_tokens
                    progress.usage_reported = True
                elif isinstance(item, pb.StreamMeta):
                    if item.request_id:
                        progress.request_id = item.request_id
    except TimeoutError:
        raise IdleTimeout(f"The model sent nothing for {idle:g} seconds.") from None
    finally:
        await stream.aclose()
    finished.extend(calls.values())  # calls the provider never closed explicitly
    return finished


def _stored_domain_payload(*, chat: Any) -> dict[str, Any]:
    from apps.domain.selectors import domain_model_current

    current = domain_model_current(chat=chat)
    if current is not None:
        return current
    return {"domainModel": {"entities": {}, "relationships": []}, "version": 0, "phase": "clarifying",
            "readiness": 0, "confidence": 0.0}


def _safe_feed(call: _PendingCall, delta: str) -> list[dict[str, Any]]:
    try:
        return call.dsl_stream.feed(delta)
    except Exception:  # noqa: BLE001 - previews are best effort; the final apply decides
        call.dsl_stream = None
        return []


async def _run_tools(
    active: ActiveRun,
    ctx: RunContext,
    prepared: PreparedPrompt,
    calls: list[_PendingCall],
    progress: _Progress,
) -> list[pb.ChatMessage]:
    chat = ctx.prompt_input.chat
    assistant_turn = pb.ChatMessage(
        role="assistant",
        content="",
        tool_calls=[pb.ToolCall(id=c.id, name=c.name, arguments="".join(c.arguments) or "{}") for c in calls],
    )
    results: list[pb.ChatMessage] = [assistant_turn]
    for call in calls:
        raw = "".join(call.arguments) or "{}"
        try:
            args = json.loads(raw)
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
        except ValueError as exc:
            args = None
            error = f"invalid JSON arguments: {exc}"
        active.emit(ev.TOOL_CALL, {"id": call.id, "tool": call.name, "args": args if args is not None else raw})
        progress.tool_calls.append({"id": call.id, "tool": call.name, "args": args})
        if args is not None:
            if call.name not in prepared.allowed_tools:
                error = f"The tool {call.name!r} is not allowed in {prepared.mode} mode."
            else:
                try:
                    outcome = await run_db(
                        execute_tool,
                        name=call.name,
                        args=args,
                        chat=chat,
                        source_message_id=active.message_id,
                    )
                except ToolFailed as exc:
                    error = str(exc)
                else:
                    for type_, payload in outcome.events:
                        active.emit(type_, payload)
                    active.emit(ev.TOOL_RESULT, {"id": call.id, "result": outcome.result})
                    progress.tool_calls[-1]["result"] = outcome.result
                    results.append(
                        pb.ChatMessage(
                            role="tool",
                            tool_call_id=call.id,
                            name=call.name,
                            content=json.dumps(outcome.result, default=str),
                        )
                    )
                    continue
        active.emit(ev.TOOL_ERROR, {"id": call.id, "error": error})
        if call.previewed:
            # The previews showed a model that was refused: put the stored one back.
            active.emit(ev.DSL_UPDATE, await run_db(_stored_domain_payload, chat=chat))
        progress.tool_calls[-1]["error"] = error
        results.append(
            pb.ChatMessage(role="tool", tool_call_id=call.id, name=call.name, content=json.dumps({"error": error}))
        )
    return results


def _hand_to_client(
    active: ActiveRun, prepared: PreparedPrompt, calls: list[_PendingCall], progress: _Progress
) -> bool:
    """Emit the calls of client-defined tools as ``tool.call`` (``client: true``), unexecuted:
    the client runs them and sends the results in its next request. True if there were any."""
    handed = False
    for call in calls:
        if call.name not in prepared.client_tools:
            continue
        handed = True
        raw = "".join(call.arguments) or "{}"
        try:
            args: Any = json.loads(raw)
        except ValueError:
            args = raw  # the model's text as it came; the client decides what to do with it
        active.emit(ev.TOOL_CALL, {"id": call.id, "tool": call.name, "args": args, "arguments": raw, "client": True})
        progress.tool_calls.append({"id": call.id, "tool": call.name, "args": args, "client": True})
    return handed


async def _compact(active: ActiveRun, ctx: RunContext, prepared: PreparedPrompt) -> None:
    budget = settings.ENGINE_CONTEXT_BUDGET_TOKENS or int(ctx.model_info.context_window * 0.75) - (ctx.max_tokens or 0)
    older, kept = compaction_split(prepared, budget)
    if not older:
        return
    active.emit(ev.COMPACTION_START, {})
    summary = await _summarise(ctx, older, prepared.summary)
    prepared.history = kept
    prepared.summary = summary
    if ctx.prompt_input.history is None:
        covers = older[-1].created_at
        await run_db(
            _store_summary,
            chat_id=str(ctx.prompt_input.chat.pk),
            summary=summary,
            covers_until=covers.isoformat() if covers else None,
        )
    active.emit(ev.COMPACTION_COMPLETE, {"summaryTokens": estimate_tokens(summary)})


async def _summarise(ctx: RunContext, turns: list[HistoryTurn], previous: str) -> str:
    """Ask the model for a summary; fall back to an extractive one if that fails."""
    transcript = "\n".join(f"{t.message.role}: {t.message.content}" for t in turns)
    request = pb.ProviderRequest(
        model=ctx.model_info.upstream_model,
        system="Summarise this conversation for your own later use: decisions, entities, open "
        "questions. At most 200 words. Plain text.",
        messages=[pb.ChatMessage(role="user", content=(previous + "\n\n" + transcript)[-60000:])],
        max_tokens=400,
    )
    parts: list[str] = []
    try:
        async with asyncio.timeout(settings.PROVIDER_IDLE_TIMEOUT_S):
            async for item in ctx.provider.stream(request):
                if isinstance(item, pb.TextDelta):
                    parts.append(item.text)
    except (pb.ProviderError, TimeoutError):
        logger.warning("model summary failed; using an extractive summary", exc_info=True)
        parts = []
    text = "".join(parts).strip()
    return text or extractive_summary(turns, previous)


def _store_summary(*, chat_id: str, summary: str, covers_until: str | None) -> None:
    from apps.chats.models import Message

    Message.objects.create(
        chat_id=chat_id,
        role=Message.Role.SYSTEM,
        content=summary,
        parts={"kind": "compaction", "coversUntil": covers_until},
    )


async def execute_run(
    active: ActiveRun, ctx: RunContext, prompt: PreparedPrompt | Exception | None = None
) -> None:
    """The run task. Always ends with exactly one terminal event and final statuses.

    ``prompt`` is the prompt the run's set-up prepared, or the exception that preparing it
    raised (it ends the run like any other failure); None prepares it here.
    """
    progress = _Progress()
    outcome_status = "completed"
    error: tuple[str, str, bool] | None = None
    try:
        if isinstance(prompt, Exception):
            raise prompt
        prepared = prompt if prompt is not None else await run_db(prepare_prompt, ctx.prompt_input)
        if prepared.sources:
            progress.sources = prepared.sources
            active.emit(ev.RAG_SOURCES, {"sources": prepared.sources})
        await _compact(active, ctx, prepared)
        await plan_hooks.before_model(active, ctx, prepared)
        messages = prepared.messages()
        progress.prompt_tokens_estimate = prepared.token_estimate()
        for _round in range(settings.ENGINE_MAX_TOOL_ROUNDS):
            request = pb.ProviderRequest(
                model=ctx.model_info.upstream_model,
                messages=messages,
                system=prepared.system_text(),
                tools=prepared.tools,
                temperature=ctx.temperature,
                max_tokens=ctx.max_tokens,
                reasoning=ctx.reasoning,
                context=prepared.context,
                tool_choice=prepared.tool_choice,
            )
            calls = await _stream_round(active, ctx, request, progress, prepared.context.get("domain_model"))
            if not calls:
                break
            if _hand_to_client(active, prepared, calls, progress):
                calls = [c for c in calls if c.name not in prepared.client_tools]
                if calls:  # Blueprint's own tools called in the same turn still run
                    await _run_tools(active, ctx, prepared, calls, progress)
                break
            messages = [*messages, *await _run_tools(active, ctx, prepared, calls, progress)]
            if any(c.name == UPDATE_DOMAIN_MODEL for c in calls):
                from apps.domain.selectors import domain_model_current

                prepared.context["domain_model"] = await run_db(domain_model_current, chat=ctx.prompt_input.chat)
        await plan_hooks.after_answer(active, ctx, prepared)
        if prepared.doc_type and active.text.strip():
            await run_db(_save_document, ctx=ctx, doc_type=prepared.doc_type, content=active.text)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        if active.stop_reason is None:
            outcome_status = "interrupted"
            error = ("interrupted", "The server shut down while answering.", True)
        else:
            outcome_status = "stopped"
    except IdleTimeout as exc:
        outcome_status, error = "error", ("provider_timeout", str(exc), True)
    except pb.ProviderError as exc:
        outcome_status = "error"
        error = _provider_error(exc, ctx, streamed=bool(active.text_parts or progress.reasoning))
    except ApplicationError as exc:
        outcome_status, error = "error", (exc.code, exc.message, exc.retry)
    except Exception:
        logger.exception("run %s failed", active.run_id)
        outcome_status, error = "error", ("internal_error", "Blueprint failed while answering.", False)
    await plan_hooks.settle(active, ctx, outcome_status)
    await _finish(active, ctx, progress, outcome_status, error)


def _provider_error(exc: pb.ProviderError, ctx: RunContext, *, streamed: bool) -> tuple[str, str, bool]:
    provider = ctx.model_info.provider
    if streamed:
        return ("stream_interrupted", f"{provider} stopped mid-answer: {exc.message}", exc.retryable)
    if exc.code == "authentication_failed":
        return ("no_provider", f"{provider} rejected the configured credentials.", False)
    if exc.retryable:
        status = f" {exc.status}" if exc.status else ""
        return ("model_unavailable", f"{provider} returned{status or ' an error'}: {exc.message}", True)
    return ("provider_error", f"{provider}: {exc.message}", False)


def _save_document(*, ctx: RunContext, doc_type: str, content: str) -> None:
    from apps.knowledge.services import document_save_generated

    document_save_generated(project=ctx.prompt_input.chat.project, doc_type=doc_type, content=content)


def _record_end(*, active: ActiveRun, ctx: RunContext, events: list[ev.Event], outcome: store.RunOutcome) -> None:
    """One commit: the credit settlement, the last events and the final statuses (cost = what was charged)."""
    from apps.core.limits import credit_settle_within_limit

    with transaction.atomic():
        charged = credit_settle_within_limit(workspace_id=ctx.workspace_id, reserved=ctx.reserved_credit,
                                             actual=outcome.cost)
        if charged != outcome.cost:
            outcome.parts["uncharged"] = str(outcome.cost - charged)
            outcome.cost = charged
        store.run_finish(run_id=active.run_id, message_id=active.message_id, events=events, outcome=outcome)


async def _finish(
    active: ActiveRun, ctx: RunContext, progress: _Progress, status: str, error: tuple[str, str, bool] | None
) -> None:
    active.finishing = True
    text = active.text
    if not progress.usage_reported:
        # Stopped or failed before the provider reported usage: bill an estimate.
        progress.input_tokens = progress.prompt_tokens_estimate
        progress.output_tokens = estimate_tokens(text + "".join(progress.reasoning))
    cost = _cost(ctx, progress.input_tokens, progress.output_tokens)
    if status in ("completed", "stopped"):
        active.emit(ev.ASSISTANT_MESSAGE, {"text": text})
    active.emit(
        ev.USAGE_INFO,
        {"inputTokens": progress.input_tokens, "outputTokens": progress.output_tokens, "cost": float(cost)},
    )
    if error is None:
        terminal = active.emit(ev.TASK_COMPLETE, {"status": status}, deliver=False)
    else:
        terminal = active.emit(ev.ERROR, {"error": error[0], "message": error[1], "retry": error[2]}, deliver=False)
    message_status = {"completed": "complete"}.get(status, status)
    parts: dict[str, Any] = {}
    if progress.reasoning:
        parts["reasoning"] = "".join(progress.reasoning)
    if progress.tool_calls:
        parts["toolCalls"] = progress.tool_calls
    if progress.sources:
        parts["sources"] = progress.sources
    if not progress.usage_reported:
        parts["usageEstimated"] = True
    outcome = store.RunOutcome(
        run_status=status,
        message_status=message_status,
        content=text,
        parts=parts,
        input_tokens=progress.input_tokens,
        output_tokens=progress.output_tokens,
        cost=cost,
        error_code=error[0] if error else "",
        error_message=error[1] if error else "",
        provider_request_id=progress.request_id,
    )
    active.cancel_pending_flush()
    async with active.flush_lock:
        batch, active.pending = active.pending, []
        try:
            await asyncio.shield(write_db(_record_end, active=active, ctx=ctx, events=batch, outcome=outcome))
            active.db_writes += 1
        except Exception:
            # The run stays ``running`` with its reservation in ``cost``: with no heartbeat from
            # here on, the reaper ends it ``interrupted`` and gives the reservation back (settling
            # here as well would release it twice).
            logger.exception("could not record the end of run %s; the reaper will end it", active.run_id)
    active.release(terminal)
    active.runtime.unregister(active)
    await active.runtime.publish_events(active.run_id, batch)
    await active.runtime.leave(active.run_id)
    logger.info("run %s ended %s at %s db_writes=%d", active.run_id, status, timezone.now().isoformat(),
                active.db_writes)
