"""Channels routes: the streaming HTTP (SSE) endpoints and the WebSocket endpoints.

Each app that owns consumers exposes ``http_routes`` / ``websocket_routes`` lists.
"""
from typing import Any

from apps.streaming.routing import http_routes as streaming_http
from apps.streaming.routing import websocket_routes as streaming_ws

http_routes: list[Any] = [*streaming_http]
websocket_routes: list[Any] = [*streaming_ws]
