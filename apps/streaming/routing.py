"""Channels routes of the streaming transports."""

from typing import Any

from django.urls import path

from apps.streaming.chat_post import ChatPostEndpoint
from apps.streaming.dslchat import ChatStreamEndpoint, DslChatSocketConsumer
from apps.streaming.native import ChatSocketConsumer, ResumeEndpoint, SendMessageEndpoint, StopEndpoint
from apps.streaming.simplechat import ChatStopEndpoint, ReasonEndpoint, SimpleStreamEndpoint

http_routes: list[Any] = [
    path("api/chat/<str:project_id>/messages", SendMessageEndpoint()),  # type: ignore[arg-type]
    path("api/chat/<str:project_id>/stop", StopEndpoint()),  # type: ignore[arg-type]
    path("api/runs/<str:run_id>/stream", ResumeEndpoint()),  # type: ignore[arg-type]
    # Seeds 000 and 004 (one POST /api/chat, dialect chosen in apps.streaming.chat_post).
    path("api/chat", ChatPostEndpoint()),  # type: ignore[arg-type]
    path("api/chat/stream", SimpleStreamEndpoint()),  # type: ignore[arg-type]
    path("api/chat/reason", ReasonEndpoint()),  # type: ignore[arg-type]
    path("api/chat/stop", ChatStopEndpoint()),  # type: ignore[arg-type]
    path("api/chat/<str:chat_id>/stream", ChatStreamEndpoint()),  # type: ignore[arg-type]
]
websocket_routes: list[Any] = [
    path("api/chat/<str:project_id>/ws", ChatSocketConsumer.as_asgi()),
    path("api/chat/ws", DslChatSocketConsumer.as_asgi()),
]
