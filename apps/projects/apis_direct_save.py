"""REST: direct-save (seed 001) — the visual editor's AST patches, applied without a model call.

The new version is announced as ``file.updated {path, version, source}`` in the live run of the
chat named by ``chatId`` (else the project's default chat) when that run executes on this
worker; either way it is in the file's versions (``GET …/file-versions/{path}``).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chats.models import Chat
from apps.chats.selectors import chat_get
from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.core.errors import ValidationFailed
from apps.engine.notify import chat_run_notify
from apps.projects.apis_files import FileSummarySerializer, etag, expected_version_of
from apps.projects.direct_save.apply import MAX_PATCHES, Patch
from apps.projects.file_services import project_file_direct_save
from apps.projects.models import Project
from apps.projects.selectors import project_get

PATCH_FIELDS = ("selector", "property", "value")


def parse_patches(raw: object) -> list[Patch]:
    """The patches of the body, or a 400 naming the first bad field (``patches[2].value``)."""
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("patches must be a non-empty list of {selector, property, value}", field="patches")
    if len(raw) > MAX_PATCHES:
        raise ValidationFailed(f"at most {MAX_PATCHES} patches per request", field="patches")
    patches = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationFailed(f"patches[{index}] must be an object", field=f"patches[{index}]")
        for name in PATCH_FIELDS:
            value = item.get(name)
            if not isinstance(value, str) or (name != "value" and not value.strip()):
                raise ValidationFailed(
                    f"patches[{index}].{name} must be a{' non-empty' if name != 'value' else ''} string",
                    field=f"patches[{index}].{name}",
                )
        patches.append(Patch(selector=item["selector"], property=item["property"].strip(), value=item["value"]))
    return patches


def _chat(request: Request, project: Project, chat_id: str | None) -> Chat | None:
    if chat_id:
        return chat_get(workspace=request_principal(request).workspace, chat_id=chat_id, project=project)
    return Chat.objects.filter(project=project, is_default=True).first()


class DirectSaveApi(APIView):
    class InputSerializer(serializers.Serializer):
        class PatchSerializer(serializers.Serializer):
            selector = serializers.CharField(help_text="tag, #id, .class, [attr=value], :nth-of-type(n), ' ', '>'")
            property = serializers.CharField(help_text="text, className, any attribute, or style.<property>")
            value = serializers.CharField(allow_blank=True)

            class Meta:
                ref_name = "DirectSavePatch"

        filePath = serializers.CharField()
        patches = PatchSerializer(many=True)
        expectedVersion = serializers.IntegerField(required=False, min_value=1)
        chatId = serializers.UUIDField(required=False)

        class Meta:
            ref_name = "DirectSave"

    class OutputSerializer(FileSummarySerializer):
        notifiedRunId = serializers.CharField(allow_null=True, help_text="the live run told of the change")

        class Meta:
            ref_name = "DirectSaveResult"

    @extend_schema(
        operation_id="direct_save",
        description=(
            "Apply `{selector, property, value}` patches to an HTML, JSX or TSX project file by editing its "
            "syntax tree; every byte outside the edited spans is kept. `expectedVersion` (or `If-Match`) "
            "checks the version: 409 `version_conflict` when stale. A patch that cannot be applied is a "
            "422 naming `patches[i]` and its selector; the file is then unchanged."
        ),
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request: Request, projectId: str) -> Response:
        principal = request_principal(request)
        project = project_get(workspace=principal.workspace, project_id=projectId)
        body: Any = request.data
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object", field="filePath")
        file_path = body.get("filePath")
        if not isinstance(file_path, str) or not file_path.strip():
            raise ValidationFailed("filePath must be a non-empty string", field="filePath")
        patches = parse_patches(body.get("patches"))
        chat_id = body.get("chatId")
        if chat_id is not None and not isinstance(chat_id, str):
            raise ValidationFailed("chatId must be a string", field="chatId")
        expected, create_only = expected_version_of(request, body.get("expectedVersion"))
        if create_only:
            raise ValidationFailed("direct-save edits an existing file; expectedVersion must be 1 or more",
                                   field="expectedVersion")
        chat = _chat(request, project, chat_id)
        file = project_file_direct_save(
            project=project, path=file_path, patches=patches, expected_version=expected, author=principal.user
        )
        run_id = None
        if chat is not None:
            run_id = chat_run_notify(
                chat_id=str(chat.pk), type_="file.updated",
                payload={"path": file.path, "version": file.version, "source": "direct_save"},
            )
        return Response(
            {**FileSummarySerializer(file).data, "notifiedRunId": run_id}, headers={"ETag": etag(file.version)}
        )
