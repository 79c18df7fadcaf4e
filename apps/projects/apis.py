"""REST: projects of the caller's workspace. One APIView per operation."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.projects.selectors import project_get, project_list
from apps.projects.services import project_create, project_delete, project_update


class ProjectOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "Project"


class ProjectListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        projects = ProjectOutputSerializer(many=True)

        class Meta:
            ref_name = "ProjectList"

    @extend_schema(operation_id="projects_list", responses={200: OutputSerializer, **error_responses()})
    def get(self, request: Request) -> Response:
        projects = project_list(workspace=request_principal(request).workspace)
        return Response(self.OutputSerializer({"projects": projects}).data)


class ProjectCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "ProjectCreate"

    @extend_schema(
        operation_id="projects_create",
        description="Create a project; it comes with a default chat.",
        request=InputSerializer,
        responses={201: ProjectOutputSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        workspace = request_principal(request).workspace
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(workspace=workspace, **data.validated_data)
        return Response(ProjectOutputSerializer(project).data, status=201)


class ProjectDetailApi(APIView):
    @extend_schema(operation_id="projects_retrieve",
                   responses={200: ProjectOutputSerializer, **error_responses(404)})
    def get(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        return Response(ProjectOutputSerializer(project).data)


class ProjectUpdateApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(required=False, allow_blank=True)

        class Meta:
            ref_name = "ProjectUpdate"

    @extend_schema(
        operation_id="projects_update",
        request=InputSerializer,
        responses={200: ProjectOutputSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_update(project=project, **data.validated_data)
        return Response(ProjectOutputSerializer(project).data)


class ProjectDeleteApi(APIView):
    @extend_schema(
        operation_id="projects_delete",
        description="Delete a project with its chats, messages, runs and files.",
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request: Request, projectId: str) -> Response:
        project = project_get(workspace=request_principal(request).workspace, project_id=projectId)
        project_delete(project=project)
        return Response(status=204)
