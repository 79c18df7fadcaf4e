"""Events from outside a run (a direct-save) into the live run of a chat, for its subscribers.

The event joins the run's own sequence (next ``seq``, persisted with the next batch), so every
subscriber — SSE, WebSocket, a resume after reload — sees it in order with the rest of the run.
A run executing in this process takes it directly; a run on another worker gets it through the
bus (``run.notify``), like a stop. The bus may drop it (it is a doorbell): the change stays
visible through the file's versions.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync

from apps.engine import store
from apps.engine.bus import make_bus
from apps.engine.runtime import WORKER_ID, ActiveRun, local_runs


def chat_run_notify(*, chat_id: str, type_: str, payload: dict[str, Any]) -> str | None:
    """Emit ``type_`` into the chat's live run on this worker; safe from any thread.

    Call it from sync code (a DRF view's thread), not from an event loop.

    Returns:
        The id of the chat's live run (the event is queued on its loop here, or sent to its
        worker, and emitted unless the run is already ending), else None.
    """
    for active in list(local_runs().values()):
        if active.chat_id == chat_id:
            active.loop.call_soon_threadsafe(emit_unless_ending, active, type_, dict(payload))
            return active.run_id
    run_id = store.chat_running_run_id(chat_id=chat_id)
    if run_id is None:
        return None
    async_to_sync(_publish)(run_id, {"type": "run.notify", "runId": run_id, "origin": WORKER_ID,
                                     "event": {"type": type_, "payload": dict(payload)}})
    return run_id


async def _publish(run_id: str, message: dict[str, Any]) -> None:
    bus = make_bus()
    try:
        await bus.publish(run_id, message)
    finally:
        await bus.close()


def emit_unless_ending(active: ActiveRun, type_: str, payload: dict[str, Any]) -> None:
    # After the terminal event nothing may follow; ``finishing`` is set before it is emitted.
    if active.finishing or (active.task is not None and active.task.done()):
        return
    active.emit(type_, payload)
