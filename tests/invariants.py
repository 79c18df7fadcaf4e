"""The run invariants of SPEC §4, checked from Postgres alone (tests and bench/ share this).

I1  the user message was committed before the provider was called;
I2  every assistant message is in exactly one final status, and its stored text is what the
    client received (the concatenated deltas; and the transcripts a caller recorded);
I3  ``seq`` runs 1, 2, 3 … without a gap, ``run.started`` first, exactly one terminal event, last;
I4  credit never overshoots a workspace's limit and no run is billed twice: once everything is
    quiet, ``credit_used`` is the sum of the costs of the workspace's runs;
I5  nothing is left ``streaming`` / ``running`` once the system is quiet.

``check_runs`` is synchronous (call it through ``sync_to_async`` from async code) and reads
only the database; what a test saw on the wire comes in through ``received``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from apps.chats.models import Message, Run, RunEvent
from apps.core.models import Workspace

TERMINAL = ("error", "session.task_complete")
FINAL_MESSAGE = {
    Run.Status.COMPLETED: Message.Status.COMPLETE,
    Run.Status.STOPPED: Message.Status.STOPPED,
    Run.Status.ERROR: Message.Status.ERROR,
    Run.Status.INTERRUPTED: Message.Status.INTERRUPTED,
}


@dataclass
class Verdict:
    runs: int = 0
    events: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        head = f"{self.runs} runs, {self.events} events: "
        if self.ok:
            return head + "I1–I5 hold"
        shown = "; ".join(self.violations[:10])
        more = f" (+{len(self.violations) - 10} more)" if len(self.violations) > 10 else ""
        return head + f"{len(self.violations)} violations: {shown}{more}"


def check_runs(
    run_ids: Iterable[Any] | None = None,
    *,
    workspace_ids: Iterable[Any] | None = None,
    received: Mapping[str, str] | None = None,
    provider_called_at: Mapping[str, datetime] | None = None,
    quiet: bool = True,
) -> Verdict:
    """Check I1–I5 over the given runs (or every run of the given workspaces).

    Args:
        run_ids: the runs to check; with ``workspace_ids`` only, all runs of those workspaces.
        received: run id → the text a client assembled from that run's deltas. A completed,
            stopped or errored run must have stored exactly that; an interrupted one (its worker
            died between delivering and persisting) must agree with it on their common prefix.
        provider_called_at: run id → when the (fake) upstream received the provider request.
        quiet: the system is idle, so I4's ledger and I5 apply.
    Returns:
        A Verdict listing every violation found (empty when all hold).
    """
    runs = Run.objects.select_related("user_message", "assistant_message", "chat__project")
    if run_ids is not None:
        runs = runs.filter(pk__in=[str(r) for r in run_ids])
    if workspace_ids is not None:
        runs = runs.filter(chat__project__workspace_id__in=[str(w) for w in workspace_ids])
    verdict = Verdict()
    seen_workspaces: set[Any] = set()
    for run in runs.order_by("started_at"):
        verdict.runs += 1
        seen_workspaces.add(run.chat.project.workspace_id)
        events = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "type", "payload",
                                                                                   "created_at"))
        verdict.events += len(events)
        problems: list[str] = []
        _user_message_first(run, events, provider_called_at, problems)
        _sequence(run, events, quiet, problems)
        _final_text(run, events, received, quiet, problems)
        verdict.violations.extend(f"run {run.pk}: {p}" for p in problems)
    if quiet:
        scope = workspace_ids if workspace_ids is not None else seen_workspaces
        for workspace in Workspace.objects.filter(pk__in=[str(w) for w in scope]):
            _ledger(workspace, verdict.violations)
    return verdict


def _user_message_first(run: Run, events: list[tuple[Any, ...]],
                        provider_called_at: Mapping[str, datetime] | None, problems: list[str]) -> None:
    user = run.user_message
    if user is None or user.role != Message.Role.USER:
        problems.append("I1 no user message")
        return
    if user.created_at > run.started_at:
        problems.append("I1 user message created after the run started")
    if events and user.created_at > events[0][3]:
        problems.append("I1 user message created after the first event")
    called = (provider_called_at or {}).get(str(run.pk))
    if called is not None and user.created_at > called:
        problems.append(f"I1 provider called at {called.isoformat()} before the user message existed")


def _sequence(run: Run, events: list[tuple[Any, ...]], quiet: bool, problems: list[str]) -> None:
    seqs = [e[0] for e in events]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"I3 seq not gap-free from 1: {_gaps(seqs)}")
    if not events or events[0][1] != "run.started":
        problems.append("I3 first event is not run.started")
    terminals = [e for e in events if e[1] in TERMINAL]
    if run.status == Run.Status.RUNNING and not quiet:
        if terminals:
            problems.append("I3 a running run already has a terminal event")
        return
    if len(terminals) != 1:
        problems.append(f"I3 {len(terminals)} terminal events")
    elif events[-1][1] not in TERMINAL:
        problems.append(f"I3 the terminal event is not last (last is {events[-1][1]})")
    if events and run.last_seq != events[-1][0]:
        problems.append(f"I3 run.last_seq {run.last_seq} != last persisted seq {events[-1][0]}")


def _final_text(run: Run, events: list[tuple[Any, ...]], received: Mapping[str, str] | None, quiet: bool,
                problems: list[str]) -> None:
    message = run.assistant_message
    if message is None:
        problems.append("I2 no assistant message")
        return
    if run.status == Run.Status.RUNNING:
        if quiet:
            problems.append("I5 run still running")
        if quiet and message.status == Message.Status.STREAMING:
            problems.append("I5 assistant message still streaming")
        return
    expected = FINAL_MESSAGE.get(run.status)
    if message.status != expected:
        problems.append(f"I2 run {run.status} but its message is {message.status}")
    deltas = "".join(p.get("delta", "") for _s, t, p, _c in events if t == "assistant.message_delta")
    if message.content != deltas:
        problems.append(f"I2 stored text ({len(message.content)} chars) != persisted deltas ({len(deltas)} chars)")
    finals = [p.get("text") for _s, t, p, _c in events if t == "assistant.message"]
    if len(finals) > 1 or (finals and finals[0] != message.content):
        problems.append("I2 assistant.message event disagrees with the stored text")
    client = (received or {}).get(str(run.pk))
    if client is not None:
        if run.status == Run.Status.INTERRUPTED:
            common = min(len(client), len(message.content))
            if client[:common] != message.content[:common]:
                problems.append("I2 interrupted run: stored text and client text diverge")
        elif client != message.content:
            problems.append(f"I2 client received {len(client)} chars, stored {len(message.content)}")
    if run.cost != message.cost:
        problems.append(f"I4 run cost {run.cost} != message cost {message.cost}")
    usage_events = sum(1 for _s, t, _p, _c in events if t == "session.usage_info")
    if usage_events > 1:
        problems.append(f"I4 {usage_events} usage events (billed more than once)")


def _ledger(workspace: Workspace, violations: list[str]) -> None:
    billed = Run.objects.filter(chat__project__workspace=workspace).aggregate(total=Sum("cost"))["total"]
    billed = billed or Decimal("0")
    if workspace.credit_used != billed:
        violations.append(f"workspace {workspace.pk}: I4 credit_used {workspace.credit_used} != Σ run cost {billed}")
    if workspace.credit_limit is not None and workspace.credit_used > workspace.credit_limit:
        violations.append(
            f"workspace {workspace.pk}: I4 credit_used {workspace.credit_used} over the limit {workspace.credit_limit}"
        )


def _gaps(seqs: list[int]) -> str:
    return ", ".join(str(s) for s in seqs[:20]) + ("…" if len(seqs) > 20 else "")
