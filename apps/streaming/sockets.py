"""The base of the WebSocket consumers: runs reach them through the engine, not Channels' layer."""

from __future__ import annotations

from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class EngineSocketConsumer(AsyncJsonWebsocketConsumer):
    # Runs reach the socket through the engine's bus, not a per-connection channel of the
    # channel layer: an alias with no layer configured gives the consumer none.
    channel_layer_alias = "no-channel-layer"

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale connections before every frame (a hop to its sync thread);
        # nothing here touches the ORM outside database_sync_to_async / the engine's own
        # threads, which manage their connections themselves.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
