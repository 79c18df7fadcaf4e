"""Core endpoints: health (no auth) and the workspace's API keys.

Also the two small helpers every app's ``apis.py`` uses: ``method_view`` (several
one-operation APIViews on one URL) and ``error_responses`` (the error shape in the schema).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.auth import request_principal
from apps.core.selectors import api_key_get, api_key_list
from apps.core.services import api_key_create, api_key_revoke

_ROUTED_METHODS = ("get", "post", "put", "patch", "delete")


def method_view(*operations: type[APIView]) -> Callable[..., HttpResponseBase]:
    """Serve several one-operation APIViews on one URL, dispatching on the HTTP method.

    Each operation keeps its own serializers, permissions and schema; the router only
    picks the view. Its copies of the handlers exist for the schema generator.
    """
    views: dict[str, Callable[..., HttpResponseBase]] = {}
    handlers: dict[str, Any] = {}
    for operation in operations:
        for method in _ROUTED_METHODS:
            if method in vars(operation):
                if method in views:
                    raise ImproperlyConfigured(f"two operations handle {method.upper()}")
                views[method] = operation.as_view()
                handlers[method] = vars(operation)[method]

    def dispatch(self: APIView, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = (request.method or "").lower()
        view = views.get("get" if method == "head" else method)
        if view is None:  # OPTIONS, or a method nobody handles → DRF's 405
            return APIView.dispatch(self, request, *args, **kwargs)
        return view(request, *args, **kwargs)

    name = "".join(op.__name__.removesuffix("Api") for op in operations) + "Router"
    router: type[APIView] = type(
        name, (APIView,), {**handlers, "dispatch": dispatch, "__doc__": operations[0].__doc__}
    )
    return router.as_view()


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the API key in the schema: either header works (OR, not AND)."""

    target_class = "apps.core.auth.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "ApiKeyBearer"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"ApiKeyHeader": []}, {"ApiKeyBearer": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>"},
        ]


class ErrorSerializer(serializers.Serializer):
    class Body(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        field = serializers.CharField(required=False)

        class Meta:
            ref_name = "ErrorBody"

    error = Body()

    class Meta:
        ref_name = "Error"


_ERROR_DESCRIPTIONS = {
    400: "Invalid input; `error.field` names the offending field or parameter.",
    401: "Missing, wrong or revoked credentials.",
    403: "CSRF check failed (session authentication).",
    404: "No such object in the caller's workspace.",
    409: "The operation conflicts with the object's state.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI entries for the one JSON error shape (401 is always included)."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS.get(status, ""))
        for status in sorted({401, *statuses})
    }


# --- health --------------------------------------------------------------------------------------


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
        operation_id="health",
        auth=[],
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


# --- API keys ------------------------------------------------------------------------------------


class ApiKeyOutputSerializer(serializers.Serializer):
    """An API key as listed: the display prefix only, never the key or its hash."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    active = serializers.BooleanField(source="is_active")
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    revokedAt = serializers.DateTimeField(source="revoked_at", allow_null=True)

    class Meta:
        ref_name = "ApiKey"


class ApiKeyListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        apiKeys = ApiKeyOutputSerializer(many=True)

        class Meta:
            ref_name = "ApiKeyList"

    @extend_schema(operation_id="api_keys_list", responses={200: OutputSerializer, **error_responses()})
    def get(self, request: Request) -> Response:
        workspace = request_principal(request).workspace
        keys = api_key_list(workspace=workspace)
        return Response(self.OutputSerializer({"apiKeys": keys}).data)


class ApiKeyCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ApiKeyCreate"

    class OutputSerializer(ApiKeyOutputSerializer):
        key = serializers.CharField(help_text="The raw key. Shown this once; only its prefix is kept.")

        class Meta:
            ref_name = "ApiKeyCreated"

    @extend_schema(
        operation_id="api_keys_create",
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        principal = request_principal(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = api_key_create(
            workspace=principal.workspace, user=principal.user, name=data.validated_data["name"]
        )
        # The raw key is not an attribute of the stored row (only its hash is).
        body = {**ApiKeyOutputSerializer(created.api_key).data, "key": created.raw_key}
        return Response(body, status=201)


class ApiKeyRevokeApi(APIView):
    @extend_schema(operation_id="api_keys_revoke", responses={204: None, **error_responses(403, 404)})
    def delete(self, request: Request, keyId: str) -> Response:
        workspace = request_principal(request).workspace
        api_key_revoke(api_key=api_key_get(workspace=workspace, key_id=keyId))
        return Response(status=204)
