"""REST endpoints of a chat's domain model: current, versions, diff, edits, exports."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chats.models import Chat
from apps.chats.selectors import chat_get
from apps.core.auth import request_principal
from apps.core.errors import ValidationFailed
from apps.domain.diff import diff_summary
from apps.domain.dsl_schema import dsl_document_schema
from apps.domain.exports import EXPORT_FORMATS, export_domain_model
from apps.domain.merge import empty_dsl
from apps.domain.models import DomainModelVersion
from apps.domain.selectors import (
    domain_model_current,
    domain_version_diff,
    domain_version_get,
    domain_version_latest,
    domain_version_list,
    version_payload,
)
from apps.domain.services import domain_model_replace


def _chat(request: Request, chat_id: Any) -> Chat:
    return chat_get(workspace=request_principal(request).workspace, chat_id=chat_id)


def _empty_payload() -> dict[str, Any]:
    return {"domainModel": empty_dsl(), "version": 0, "phase": "clarifying", "readiness": 0, "confidence": 0.0}


def _version_meta(version: DomainModelVersion) -> dict[str, Any]:
    return {
        "author": version.author,
        "sourceMessageId": str(version.source_message_id) if version.source_message_id else None,
        "createdAt": version.created_at.isoformat(),
    }


def _int_param(request: Request, name: str, default: int | None) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if default is None:
            raise ValidationFailed(f"{name} is required.", field=name)
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be a version number.", field=name) from None
    if value < 0:
        raise ValidationFailed(f"{name} must be 0 or more.", field=name)
    return value


class DslSchemaApi(APIView):
    """The JSON Schema of a domain-model document; public, like any schema."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(operation_id="dsl_schema", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(dsl_document_schema(), content_type="application/schema+json")


class DomainModelApi(APIView):
    class PutInput(serializers.Serializer):
        entities = serializers.DictField(required=False)
        relationships = serializers.ListField(required=False)
        domainModel = serializers.DictField(required=False)
        phase = serializers.CharField(required=False)
        confidence = serializers.FloatField(required=False)
        baseVersion = serializers.IntegerField(required=False, min_value=0)

    @extend_schema(operation_id="domain_model_get", responses={200: dict})
    def get(self, request: Request, chat_id: Any) -> Response:
        chat = _chat(request, chat_id)
        return Response(domain_model_current(chat=chat) or _empty_payload())

    @extend_schema(operation_id="domain_model_replace", request=PutInput, responses={200: dict, 409: dict, 422: dict})
    def put(self, request: Request, chat_id: Any) -> Response:
        """Replace the model (a person's edit). Send the document (seed 000's shape) or the
        GET payload back; ``baseVersion`` refuses the edit (409) if someone got there first."""
        chat = _chat(request, chat_id)
        if not isinstance(request.data, dict):
            raise ValidationFailed("Send the domain model as a JSON object.")
        body = dict(request.data)
        base_version = body.pop("baseVersion", None)
        if base_version is not None and (isinstance(base_version, bool) or not isinstance(base_version, int)):
            raise ValidationFailed("baseVersion must be a version number.", field="baseVersion")
        wrapped = body.pop("domainModel", None)
        if wrapped is not None:
            for ignored in ("version", "readiness"):
                body.pop(ignored, None)
            document = {**(wrapped if isinstance(wrapped, dict) else {"entities": wrapped}), **body}
        else:
            document = body
        applied = domain_model_replace(chat=chat, dsl=document, author="person", base_version=base_version)
        return Response({**applied.payload, "diff": applied.diff})


class DomainModelVersionListApi(APIView):
    @extend_schema(operation_id="domain_model_versions", responses={200: dict})
    def get(self, request: Request, chat_id: Any) -> Response:
        chat = _chat(request, chat_id)
        versions = [
            {"version": v.version, "phase": v.phase, "readiness": v.readiness, "confidence": v.confidence,
             "changes": diff_summary(v.diff) if v.diff else {"added": 0, "changed": 0, "removed": 0},
             **_version_meta(v)}
            for v in domain_version_list(chat=chat).defer("dsl")
        ]
        return Response({"versions": versions})


class DomainModelVersionApi(APIView):
    @extend_schema(operation_id="domain_model_version", responses={200: dict})
    def get(self, request: Request, chat_id: Any, version: int) -> Response:
        found = domain_version_get(chat=_chat(request, chat_id), version=version)
        return Response({**version_payload(found), **_version_meta(found), "diff": found.diff})


class DomainModelDiffApi(APIView):
    @extend_schema(
        operation_id="domain_model_diff",
        parameters=[OpenApiParameter("from", int, description="default: to - 1 (0 = the empty model)"),
                    OpenApiParameter("to", int, description="default: the current version")],
        responses={200: dict},
    )
    def get(self, request: Request, chat_id: Any) -> Response:
        chat = _chat(request, chat_id)
        latest = domain_version_latest(chat=chat)
        to_version = _int_param(request, "to", latest.version if latest else 0)
        from_version = _int_param(request, "from", max(0, to_version - 1))
        diff = domain_version_diff(chat=chat, from_version=from_version, to_version=to_version)
        return Response({"from": from_version, "to": to_version, "diff": diff, "changes": diff_summary(diff)})


class _FirstRenderer(DefaultContentNegotiation):
    """``?format=`` names the export here, not a DRF renderer: never negotiate on it."""

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type or "application/json"


class DomainModelExportApi(APIView):
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        operation_id="domain_model_export",
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS), required=True),
                    OpenApiParameter("version", int, description="default: the current version")],
        responses={(200, "text/plain"): str},
    )
    def get(self, request: Request, chat_id: Any) -> HttpResponse:
        chat = _chat(request, chat_id)
        fmt = request.query_params.get("format", "")
        if fmt not in EXPORT_FORMATS:
            raise ValidationFailed(f"format must be one of {', '.join(EXPORT_FORMATS)}.", field="format",
                                   extra={"validFormats": list(EXPORT_FORMATS)})
        latest = domain_version_latest(chat=chat)
        number = _int_param(request, "version", latest.version if latest else 0)
        dsl = empty_dsl() if number == 0 else domain_version_get(chat=chat, version=number).dsl
        title = f"{chat.title or 'Chat ' + str(chat.id)} — domain model v{number}"
        text, content_type = export_domain_model(dsl, fmt, title=title)
        response = HttpResponse(text, content_type=content_type)
        extension = EXPORT_FORMATS[fmt][2]
        response["Content-Disposition"] = f'inline; filename="domain-model-v{number}.{extension}"'
        return response
