"""Channels routes of the streaming transports."""

from typing import Any

from django.urls import path

from apps.streaming import aisdk
from apps.streaming.native import ChatSocketConsumer, ResumeEndpoint, SendMessageEndpoint, StopEndpoint

http_routes: list[Any] = [
    path("api/chat/<str:project_id>/messages", SendMessageEndpoint()),  # type: ignore[arg-type]
    path("api/chat/<str:project_id>/stop", StopEndpoint()),  # type: ignore[arg-type]
    path("api/runs/<str:run_id>/stream", ResumeEndpoint()),  # type: ignore[arg-type]
    path("api/ai-sdk/chat", aisdk.ChatEndpoint()),  # type: ignore[arg-type]
    path("api/ai-sdk/chat/<str:chat_id>/stream", aisdk.ResumeEndpoint()),  # type: ignore[arg-type]
    path("api/ai-sdk/chat/<str:chat_id>/stop", aisdk.StopEndpoint()),  # type: ignore[arg-type]
]
websocket_routes: list[Any] = [
    path("api/chat/<str:project_id>/ws", ChatSocketConsumer.as_asgi()),
]
