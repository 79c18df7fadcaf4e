"""Channels routes of the streaming transports."""

from typing import Any

from django.urls import path

from apps.streaming.native import ChatSocketConsumer, ResumeEndpoint, SendMessageEndpoint, StopEndpoint
from apps.streaming.plans import PlanModeEndpoint, RunPlanEndpoint

http_routes: list[Any] = [
    path("api/chat/<str:project_id>/messages", SendMessageEndpoint()),  # type: ignore[arg-type]
    path("api/chat/<str:project_id>/stop", StopEndpoint()),  # type: ignore[arg-type]
    path("api/runs/<str:run_id>/stream", ResumeEndpoint()),  # type: ignore[arg-type]
    path("api/plan/<str:project_id>", PlanModeEndpoint()),  # type: ignore[arg-type]
    path("api/plan/<str:project_id>/<str:chat_id>/run", RunPlanEndpoint()),  # type: ignore[arg-type]
]
websocket_routes: list[Any] = [
    path("api/chat/<str:project_id>/ws", ChatSocketConsumer.as_asgi()),
]
