"""Channels routes of the streaming transports (filled in by the run engine work)."""
from typing import Any

http_routes: list[Any] = []
websocket_routes: list[Any] = []
