"""Channels routes of the streaming transports."""

from typing import Any

from django.urls import path

from apps.streaming.docgen import ChatGenerateEndpoint, ChatMessageEndpoint, ChatStreamEndpoint
from apps.streaming.native import ChatSocketConsumer, ResumeEndpoint, SendMessageEndpoint, StopEndpoint
from apps.streaming.openai_compat import ChatCompletionsEndpoint, ModelsEndpoint

http_routes: list[Any] = [
    path("api/chat/<str:project_id>/messages", SendMessageEndpoint()),  # type: ignore[arg-type]
    path("api/chat/<str:project_id>/stop", StopEndpoint()),  # type: ignore[arg-type]
    path("api/runs/<str:run_id>/stream", ResumeEndpoint()),  # type: ignore[arg-type]
    # seed 002/003: document generation
    path("api/v1/chat/stream", ChatStreamEndpoint()),  # type: ignore[arg-type]
    path("api/v1/chat/generate", ChatGenerateEndpoint()),  # type: ignore[arg-type]
    path("api/v1/chat/message", ChatMessageEndpoint()),  # type: ignore[arg-type]
    # OpenAI-compatible API (SPEC 5.3)
    path("v1/chat/completions", ChatCompletionsEndpoint()),  # type: ignore[arg-type]
    path("v1/models", ModelsEndpoint()),  # type: ignore[arg-type]
    path("v1/models/<path:model>", ModelsEndpoint()),  # type: ignore[arg-type]
]
websocket_routes: list[Any] = [
    path("api/chat/<str:project_id>/ws", ChatSocketConsumer.as_asgi()),
]
