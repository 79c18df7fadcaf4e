"""The doorbell between worker processes (SPEC §4.3).

The engine only knows this protocol; the implementation over Channels' channel
layer lives in ``apps.streaming.bus`` and is chosen by ``settings.ENGINE_BUS``.
Messages may be dropped: Postgres stays the source of truth.

Messages: ``{"type": "run.events", "runId", "origin", "events": [...]}`` after a
batch is persisted, ``{"type": "run.stop", "runId", "origin"}``, and ``{"type": "run.notify",
"runId", "origin", "event": {"type", "payload"}}`` (an outside event for the run's worker to emit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

BusMessage = dict[str, Any]


class Bus(Protocol):
    async def start(self, on_message: Callable[[BusMessage], None]) -> None: ...

    async def join(self, run_id: str) -> None: ...

    async def leave(self, run_id: str) -> None: ...

    async def publish(self, run_id: str, message: BusMessage) -> None: ...

    async def close(self) -> None: ...


class NullBus:
    """Single-process deployments without a channel layer."""

    async def start(self, on_message: Callable[[BusMessage], None]) -> None:
        return None

    async def join(self, run_id: str) -> None:
        return None

    async def leave(self, run_id: str) -> None:
        return None

    async def publish(self, run_id: str, message: BusMessage) -> None:
        return None

    async def close(self) -> None:
        return None


def make_bus() -> Bus:
    path = getattr(settings, "ENGINE_BUS", "apps.streaming.bus.ChannelLayerBus")
    return import_string(path)()
