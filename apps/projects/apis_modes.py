"""REST: a project's custom modes — a name, a system prompt and the tools the mode allows.

A chat is put in a mode with ``PATCH /api/chats/{chatId}`` ``{mode}``, or one message with
``mode`` in its body. A tool the mode does not allow is refused with ``tool.error``.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.core.errors import ValidationFailed
from apps.projects.mode_selectors import custom_mode_get, custom_mode_list
from apps.projects.mode_services import custom_mode_create, custom_mode_delete, custom_mode_update
from apps.projects.models import Project
from apps.projects.selectors import project_get


class ModeOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    systemPrompt = serializers.CharField(source="system_prompt")
    allowedTools = serializers.ListField(child=serializers.CharField(), source="allowed_tools")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "CustomMode"


def _project(request: Request, project_id: str) -> Project:
    return project_get(workspace=request_principal(request).workspace, project_id=project_id)


def _builtin() -> list[dict[str, object]]:
    from apps.engine.tools import MODE_TOOLS

    return [{"name": name, "allowedTools": list(tools)} for name, tools in MODE_TOOLS.items()]


class ModeListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Builtin(serializers.Serializer):
            name = serializers.CharField()
            allowedTools = serializers.ListField(child=serializers.CharField())

            class Meta:
                ref_name = "BuiltinMode"

        modes = ModeOutputSerializer(many=True)
        builtin = Builtin(many=True)

        class Meta:
            ref_name = "ModeList"

    @extend_schema(operation_id="modes_list", description="The project's custom modes, and the built-in ones.",
                   responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request: Request, projectId: str) -> Response:
        modes = custom_mode_list(project=_project(request, projectId))
        return Response({"modes": ModeOutputSerializer(modes, many=True).data, "builtin": _builtin()})


class ModeCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50, help_text="a slug; not build, plan or chat")
        systemPrompt = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
        allowedTools = serializers.ListField(child=serializers.CharField(), required=False, default=list)

        class Meta:
            ref_name = "CustomModeCreate"

    @extend_schema(operation_id="modes_create", request=InputSerializer,
                   description="Create a custom mode. An unknown tool is a 400 naming it; a taken name a 409.",
                   responses={201: ModeOutputSerializer, **error_responses(400, 404, 409)})
    def post(self, request: Request, projectId: str) -> Response:
        project = _project(request, projectId)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        mode = custom_mode_create(project=project, name=values["name"], system_prompt=values["systemPrompt"],
                                  allowed_tools=values["allowedTools"])
        return Response(ModeOutputSerializer(mode).data, status=201)


class ModeDetailApi(APIView):
    @extend_schema(operation_id="modes_retrieve", responses={200: ModeOutputSerializer, **error_responses(404)})
    def get(self, request: Request, projectId: str, name: str) -> Response:
        mode = custom_mode_get(project=_project(request, projectId), name=name)
        return Response(ModeOutputSerializer(mode).data)


class ModeUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        systemPrompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        allowedTools = serializers.ListField(child=serializers.CharField(), required=False)

        class Meta:
            ref_name = "CustomModeUpdate"

    @extend_schema(operation_id="modes_update", request=InputSerializer,
                   description="Change the prompt or the allowed tools. The name is the mode's identity.",
                   responses={200: ModeOutputSerializer, **error_responses(400, 404)})
    def patch(self, request: Request, projectId: str, name: str) -> Response:
        mode = custom_mode_get(project=_project(request, projectId), name=name)
        if isinstance(request.data, dict) and request.data.get("name") not in (None, name):
            raise ValidationFailed("A mode cannot be renamed; create a new one.", field="name")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        mode = custom_mode_update(mode=mode, system_prompt=values.get("systemPrompt"),
                                  allowed_tools=values.get("allowedTools"))
        return Response(ModeOutputSerializer(mode).data)


class ModeDeleteApi(APIView):
    @extend_schema(operation_id="modes_delete", description="Delete a mode; its chats go back to chat mode.",
                   responses={204: None, **error_responses(404)})
    def delete(self, request: Request, projectId: str, name: str) -> Response:
        custom_mode_delete(mode=custom_mode_get(project=_project(request, projectId), name=name))
        return Response(status=204)
