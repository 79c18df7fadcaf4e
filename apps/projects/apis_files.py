"""REST: a project's files, with versions as ETags. One APIView per operation.

``PUT`` takes JSON ``{content, expectedVersion?}`` or the raw text itself (any other
Content-Type). The version to check comes from ``If-Match``, ``expectedVersion`` (body or
query) or ``If-None-Match: *`` (create only); a stale one is a 409 with ``currentVersion``.
"""
from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.apis import error_responses
from apps.core.auth import request_principal
from apps.core.errors import ValidationFailed
from apps.projects.file_selectors import (
    project_file_get,
    project_file_list,
    project_file_version_get,
    project_file_version_list,
)
from apps.projects.file_services import (
    FileTooLarge,
    project_file_decode,
    project_file_delete,
    project_file_max_bytes,
    project_file_write,
)
from apps.projects.models import Project, ProjectFile
from apps.projects.selectors import project_get

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')
# Fields that would make a stored file anything but plain content; refused by name.
LINK_FIELDS = frozenset({"mode", "link", "symlink", "linkTarget", "target", "type", "executable"})


def _project(request: Request, project_id: str) -> Project:
    return project_get(workspace=request_principal(request).workspace, project_id=project_id)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_version(value: object, *, field: str) -> int | None:
    """A version from a header (``"3"``, ``W/"3"``, ``3``), a query string or a JSON number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a version number", field=field)
    if isinstance(value, int):
        number = value
    else:
        match = _ETAG.match(str(value).strip())
        if match is None:
            raise ValidationFailed(f"{field} must be a version number like \"3\"", field=field)
        number = int(match.group(1))
    if number < 0:
        raise ValidationFailed(f"{field} must not be negative", field=field)
    return number


def expected_version_of(request: Request, body_value: object = None) -> tuple[int | None, bool]:
    """(expected version, create only) from If-Match / If-None-Match / expectedVersion.

    ``expectedVersion: 0`` means "must not exist yet", like ``If-None-Match: *``.
    """
    if_match = request.headers.get("If-Match", "").strip()
    header = parse_version(if_match, field="If-Match") if if_match != "*" else None
    create_only = request.headers.get("If-None-Match", "").strip() == "*"
    candidates = [
        v for v in (
            header,
            parse_version(request.query_params.get("expectedVersion"), field="expectedVersion"),
            parse_version(body_value, field="expectedVersion"),
        ) if v is not None
    ]
    if len(set(candidates)) > 1:
        raise ValidationFailed("If-Match and expectedVersion disagree", field="expectedVersion")
    expected = candidates[0] if candidates else None
    if expected == 0:
        return None, True
    if create_only and expected is not None:
        raise ValidationFailed("If-None-Match: * cannot be combined with a version", field="If-None-Match")
    return expected, create_only


class FileSummarySerializer(serializers.Serializer):
    path = serializers.CharField()
    version = serializers.IntegerField()
    size = serializers.IntegerField(help_text="UTF-8 bytes")
    sha256 = serializers.CharField()
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        ref_name = "ProjectFileSummary"


class FileOutputSerializer(FileSummarySerializer):
    content = serializers.CharField()

    class Meta:
        ref_name = "ProjectFile"


class FileListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        files = FileSummarySerializer(many=True)

        class Meta:
            ref_name = "ProjectFileList"

    @extend_schema(
        operation_id="project_files_list",
        parameters=[OpenApiParameter("prefix", str, description="only paths starting with this")],
        responses={200: OutputSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, projectId: str) -> Response:
        project = _project(request, projectId)
        files = project_file_list(project=project, prefix=request.query_params.get("prefix"))
        return Response(self.OutputSerializer({"files": files}).data)


_PATH_PARAM = OpenApiParameter("path", str, OpenApiParameter.PATH, description="may contain '/'")


class FileDetailApi(APIView):
    class VersionOutputSerializer(serializers.Serializer):
        path = serializers.CharField(source="file.path")
        version = serializers.IntegerField()
        currentVersion = serializers.IntegerField(source="file.version")
        size = serializers.IntegerField()
        sha256 = serializers.CharField()
        source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
        createdAt = serializers.DateTimeField(source="created_at")
        content = serializers.CharField()

        class Meta:
            ref_name = "ProjectFileVersionContent"

    @extend_schema(
        operation_id="project_files_retrieve",
        description="The file (ETag: its version). With `?version=N`, that stored version.",
        parameters=[_PATH_PARAM, OpenApiParameter("version", int)],
        responses={200: FileOutputSerializer, 304: None, **error_responses(400, 404)},
    )
    def get(self, request: Request, projectId: str, path: str) -> Response:
        project = _project(request, projectId)
        version = parse_version(request.query_params.get("version"), field="version")
        if version is not None:
            stored = project_file_version_get(project=project, path=path, version=version)
            return Response(self.VersionOutputSerializer(stored).data, headers={"ETag": etag(stored.version)})
        file = project_file_get(project=project, path=path)
        if_none_match = request.headers.get("If-None-Match", "")
        if if_none_match and _ETAG.match(if_none_match.strip()) and \
                parse_version(if_none_match, field="If-None-Match") == file.version:
            return Response(status=304, headers={"ETag": etag(file.version)})
        return Response(FileOutputSerializer(file).data, headers={"ETag": etag(file.version)})


class FilePutApi(APIView):
    class InputSerializer(serializers.Serializer):
        content = serializers.CharField(allow_blank=True, trim_whitespace=False)
        expectedVersion = serializers.IntegerField(required=False, allow_null=True, min_value=0)

        class Meta:
            ref_name = "ProjectFileWrite"

    @extend_schema(
        operation_id="project_files_write",
        description=(
            "Create or replace a text file. JSON `{content, expectedVersion?}` or the raw UTF-8 text. "
            "`If-Match: \"3\"` / `expectedVersion` check the version (409 `version_conflict` with "
            "`currentVersion` when stale); `If-None-Match: *` creates only."
        ),
        parameters=[_PATH_PARAM, OpenApiParameter("expectedVersion", int),
                    OpenApiParameter("If-Match", str, OpenApiParameter.HEADER),
                    OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER)],
        request={"application/json": InputSerializer, "text/plain": OpenApiTypes.STR},
        responses={200: FileSummarySerializer, 201: FileSummarySerializer, **error_responses(400, 404, 409, 413)},
    )
    def put(self, request: Request, projectId: str, path: str) -> Response:
        project = _project(request, projectId)
        content, body_version = self._content(request)
        expected, create_only = expected_version_of(request, body_version)
        file = project_file_write(
            project=project, path=path, content=content, source="api", expected_version=expected,
            create_only=create_only, must_exist=request.headers.get("If-Match", "").strip() == "*",
            author=request_principal(request).user,
        )
        return Response(
            FileSummarySerializer(file).data, status=201 if file.version == 1 else 200,
            headers={"ETag": etag(file.version)},
        )

    def _content(self, request: Request) -> tuple[str, object]:
        limit = project_file_max_bytes()
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        is_json = (request.content_type or "").split(";")[0].strip() == "application/json"
        # JSON escapes can take up to 6 bytes per byte of content; refuse before reading.
        if length > (limit * 6 + 4096 if is_json else limit):
            raise FileTooLarge(length, limit)
        try:
            raw = request.body
        except RequestDataTooBig as exc:  # Django's own cap, when set below ours
            cap = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
            raise FileTooLarge(length, cap, "DATA_UPLOAD_MAX_MEMORY_SIZE") from exc
        if not is_json:
            return project_file_decode(raw), None
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            raise ValidationFailed(f"Malformed JSON body: {exc}", code="malformed_json") from exc
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object with 'content'", field="content")
        refused = sorted(LINK_FIELDS & set(body))
        if refused:
            raise ValidationFailed(
                f"{refused[0]}: project files are plain text; links, modes and types cannot be set",
                field=refused[0],
            )
        unknown = sorted(set(body) - {"content", "expectedVersion"})
        if unknown:
            raise ValidationFailed(f"{unknown[0]}: unknown field", field=unknown[0])
        if "content" not in body:
            raise ValidationFailed("content is required", field="content")
        # Checked by the service (string, text, size), not coerced: 5 is not the text "5".
        return body["content"], body.get("expectedVersion")


class FileDeleteApi(APIView):
    @extend_schema(
        operation_id="project_files_delete",
        description="Delete a file and its history; `If-Match` / `expectedVersion` check the version.",
        parameters=[_PATH_PARAM, OpenApiParameter("expectedVersion", int),
                    OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
        responses={204: None, **error_responses(400, 404, 409)},
    )
    def delete(self, request: Request, projectId: str, path: str) -> Response:
        project = _project(request, projectId)
        expected, _ = expected_version_of(request)
        project_file_delete(project=project, path=path, expected_version=expected)
        return Response(status=204)


class FileVersionListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class Version(serializers.Serializer):
            version = serializers.IntegerField()
            size = serializers.IntegerField()
            sha256 = serializers.CharField()
            source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
            authorId = serializers.IntegerField(source="author_id", allow_null=True)
            runId = serializers.UUIDField(source="run_id", allow_null=True)
            createdAt = serializers.DateTimeField(source="created_at")

            class Meta:
                ref_name = "ProjectFileVersion"

        path = serializers.CharField()
        currentVersion = serializers.IntegerField()
        versions = Version(many=True)

        class Meta:
            ref_name = "ProjectFileVersionList"

    @extend_schema(
        operation_id="project_file_versions_list",
        description="The file's stored versions, newest first (read one with `GET …/files/{path}?version=N`).",
        parameters=[_PATH_PARAM],
        responses={200: OutputSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, projectId: str, path: str) -> Response:
        file, versions = project_file_version_list(project=_project(request, projectId), path=path)
        body: dict[str, Any] = {"path": file.path, "currentVersion": file.version, "versions": versions}
        return Response(self.OutputSerializer(body).data, headers={"ETag": etag(file.version)})


def file_summary(file: ProjectFile) -> dict[str, Any]:
    return dict(FileSummarySerializer(file).data)
