"""Events from outside a run (a direct-save) into the live run of a chat, for its subscribers.

The event joins the run's own sequence (next ``seq``, persisted with the next batch), so every
subscriber — SSE, WebSocket, a resume after reload — sees it in order with the rest of the run.
Only a run executing in this process can take it: the bus carries persisted batches and stops,
not foreign events. With several workers, a run on another worker does not get the event;
the change stays visible through the file's versions.
"""

from __future__ import annotations

from typing import Any

from apps.engine.runtime import ActiveRun, local_runs


def chat_run_notify(*, chat_id: str, type_: str, payload: dict[str, Any]) -> str | None:
    """Emit ``type_`` into the chat's live run on this worker; safe from any thread.

    Returns:
        The run's id when a live run of the chat executes here (the event is queued on its
        loop and emitted unless the run is already ending), else None.
    """
    for active in list(local_runs().values()):
        if active.chat_id == chat_id:
            active.loop.call_soon_threadsafe(_emit_unless_ending, active, type_, dict(payload))
            return active.run_id
    return None


def _emit_unless_ending(active: ActiveRun, type_: str, payload: dict[str, Any]) -> None:
    # After the terminal event nothing may follow; ``finishing`` is set before it is emitted.
    if active.finishing or (active.task is not None and active.task.done()):
        return
    active.emit(type_, payload)
