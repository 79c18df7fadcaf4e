"""Service-level endpoints that need no authentication."""
from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("select extversion from pg_extension where extname = 'vector'")
            row = cursor.fetchone()
        return "ok" if row else "ok (pgvector missing)"
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return f"error: {type(exc).__name__}"


def _channel_layer_status() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "none"
    name = type(layer).__name__
    try:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.send)(channel, {"type": "health.ping"})
        async_to_sync(layer.receive)(channel)
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    return f"ok ({name})"


class HealthApi(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        responses=inline_serializer(
            "Health",
            {"status": serializers.CharField(), "database": serializers.CharField(),
             "channelLayer": serializers.CharField()},
        )
    )
    def get(self, request: Request) -> Response:
        database = _database_status()
        layer = _channel_layer_status()
        healthy = database.startswith("ok") and layer.startswith("ok")
        return Response(
            {"status": "ok" if healthy else "degraded", "database": database, "channelLayer": layer},
            status=200 if healthy else 503,
        )
