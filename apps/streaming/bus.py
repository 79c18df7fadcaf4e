"""The engine's bus over Channels' channel layer (Redis across workers)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from channels.layers import InMemoryChannelLayer, channel_layers
from django.conf import settings

from apps.engine.bus import BusMessage

logger = logging.getLogger(__name__)


def group_name(run_id: str) -> str:
    return f"run.{run_id}"


class ChannelLayerBus:
    """One receive channel per process; every run has a group.

    The layer instance is the bus's own (not the shared singleton), because the
    engine keeps one runtime per event loop and in-memory layers bind to a loop.
    """

    def __init__(self) -> None:
        alias = getattr(settings, "ENGINE_CHANNEL_LAYER", "default")
        self.layer: Any = channel_layers.make_backend(alias) if alias in settings.CHANNEL_LAYERS else None
        if isinstance(self.layer, InMemoryChannelLayer):
            # An in-memory layer made for this bus reaches nobody else (runs on other event
            # loops of the process are fed directly by ActiveRun.deliver): publishing would
            # only deep-copy every event batch to ourselves.
            self.layer = None
        self.channel: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, on_message: Callable[[BusMessage], None]) -> None:
        if self.layer is None or self._task is not None:
            return
        self.channel = await self.layer.new_channel(prefix="engine.")
        self._task = asyncio.create_task(self._receive_loop(on_message), name="engine-bus")

    async def _receive_loop(self, on_message: Callable[[BusMessage], None]) -> None:
        failures = 0
        while True:
            try:
                message = await self.layer.receive(self.channel)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                logger.warning("channel layer receive failed", exc_info=True)
                # back off while the layer (Redis) is unreachable
                await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                continue
            try:
                on_message(message)
            except Exception:
                logger.exception("bus message handler failed")

    async def join(self, run_id: str) -> None:
        if self.layer is not None and self.channel is not None:
            await self.layer.group_add(group_name(run_id), self.channel)

    async def leave(self, run_id: str) -> None:
        if self.layer is not None and self.channel is not None:
            await self.layer.group_discard(group_name(run_id), self.channel)

    async def publish(self, run_id: str, message: BusMessage) -> None:
        if self.layer is None:
            return
        try:
            await self.layer.group_send(group_name(run_id), message)
        except Exception:
            logger.warning("channel layer publish failed", exc_info=True)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
