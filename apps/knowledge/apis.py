"""REST endpoints of project knowledge: documents, search and doc types."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.auth import request_principal
from apps.core.errors import ValidationFailed
from apps.knowledge.doc_types import get_doc_type, list_doc_types
from apps.knowledge.models import Document
from apps.knowledge.retrieval import MAX_K, retrieve
from apps.knowledge.selectors import document_get, document_list
from apps.knowledge.services import document_delete, document_upload, max_document_bytes
from apps.projects.models import Project
from apps.projects.selectors import project_get

MAX_QUERY_LENGTH = 2000


def _project(request: Request, project_id: Any) -> Project:
    return project_get(workspace=request_principal(request).workspace, project_id=project_id)


class DocumentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    path = serializers.CharField()
    docType = serializers.CharField(source="doc_type")
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    status = serializers.CharField()
    error = serializers.CharField()
    checksum = serializers.CharField()
    chunkCount = serializers.IntegerField(source="chunk_count")
    embeddingModel = serializers.CharField(source="embedding_model")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class DocumentDetailOutput(DocumentOutput):
    content = serializers.CharField()


class DocumentListCreateApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class JsonInput(serializers.Serializer):
        path = serializers.CharField(max_length=1000, trim_whitespace=False)
        content = serializers.CharField(trim_whitespace=False)
        docType = serializers.CharField(required=False, allow_blank=True, max_length=50)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=[s.value for s in Document.Status])],
        responses=DocumentOutput(many=True),
    )
    def get(self, request: Request, project_id: Any) -> Response:
        project = _project(request, project_id)
        status = request.query_params.get("status") or None
        if status is not None and status not in Document.Status.values:
            raise ValidationFailed(f"status must be one of {', '.join(Document.Status.values)}.", field="status")
        return Response(DocumentOutput(document_list(project=project, status=status), many=True).data)

    @extend_schema(request=JsonInput, responses={201: DocumentOutput, 200: DocumentOutput})
    def post(self, request: Request, project_id: Any) -> Response:
        project = _project(request, project_id)
        if "file" in request.FILES:
            path, content, doc_type = self._from_upload(request)
        else:
            data = self.JsonInput(data=request.data)
            data.is_valid(raise_exception=True)
            path, content = data.validated_data["path"], data.validated_data["content"]
            doc_type = data.validated_data.get("docType") or None
        if not content.strip():
            raise ValidationFailed("The document is empty.", field="content")
        result = document_upload(project=project, path=path, content=content, doc_type=doc_type)
        return Response(DocumentOutput(result.document).data, status=201 if result.created else 200)

    @staticmethod
    def _from_upload(request: Request) -> tuple[str, str, str | None]:
        upload = request.FILES["file"]
        limit = max_document_bytes()
        if upload.size is not None and upload.size > limit:
            raise ValidationFailed(f"The file is larger than {limit} bytes.", field="file")
        raw = upload.read(limit + 1)
        if len(raw) > limit:
            raise ValidationFailed(f"The file is larger than {limit} bytes.", field="file")
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("The file is not UTF-8 text.", field="file") from None
        path = str(request.data.get("path") or upload.name or "")
        doc_type = str(request.data.get("docType") or "") or None
        return path, content, doc_type


class DocumentDetailApi(APIView):
    @extend_schema(responses=DocumentDetailOutput)
    def get(self, request: Request, project_id: Any, document_id: Any) -> Response:
        document = document_get(project=_project(request, project_id), document_id=document_id)
        return Response(DocumentDetailOutput(document).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: Any, document_id: Any) -> Response:
        document = document_get(project=_project(request, project_id), document_id=document_id)
        document_delete(document=document)
        return Response(status=204)


class SearchResultOutput(serializers.Serializer):
    documentId = serializers.CharField(source="document_id")
    path = serializers.CharField()
    docType = serializers.CharField(source="doc_type")
    score = serializers.FloatField()
    headingPath = serializers.CharField(source="heading_path")
    snippet = serializers.CharField()
    text = serializers.CharField()


class SearchOutput(serializers.Serializer):
    query = serializers.CharField()
    k = serializers.IntegerField()
    results = SearchResultOutput(many=True)


def _doc_type_list(raw: str | None, field: str) -> list[str] | None:
    if not raw:
        return None
    names = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return [get_doc_type(name).name for name in names] or None
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, field=field, extra={"validDocTypes": exc.extra.get("validDocTypes")}) \
            from None


class SearchApi(APIView):
    class Input(serializers.Serializer):
        q = serializers.CharField(max_length=MAX_QUERY_LENGTH)
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=5)
        docType = serializers.CharField(required=False, allow_blank=True)
        prefer = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(
        parameters=[Input],
        responses=SearchOutput,
        description="Chunks of the project's documents nearest to q. docType (comma-separated) "
                    "filters by doc type; prefer (comma-separated) ranks those doc types higher.",
    )
    def get(self, request: Request, project_id: Any) -> Response:
        project = _project(request, project_id)
        data = self.Input(data=request.query_params)
        data.is_valid(raise_exception=True)
        query = data.validated_data["q"]
        k = data.validated_data["k"]
        results = retrieve(
            project=project,
            query=query,
            k=k,
            doc_types=_doc_type_list(data.validated_data.get("prefer"), "prefer"),
            only_doc_types=_doc_type_list(data.validated_data.get("docType"), "docType"),
        )
        return Response({"query": query, "k": k, "results": SearchResultOutput(results, many=True).data})


class DocTypeOutput(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()


class DocTypeDetailOutput(DocTypeOutput):
    template = serializers.CharField()
    example = serializers.CharField()


class DocTypeListApi(APIView):
    @extend_schema(responses=DocTypeOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(DocTypeOutput(list_doc_types(), many=True).data)


class DocTypeDetailApi(APIView):
    @extend_schema(responses=DocTypeDetailOutput)
    def get(self, request: Request, name: str) -> Response:
        return Response(DocTypeDetailOutput(get_doc_type(name)).data)
