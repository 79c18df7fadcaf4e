from django.urls import path

from apps.knowledge.apis import (
    DocTypeDetailApi,
    DocTypeListApi,
    DocumentDetailApi,
    DocumentListCreateApi,
    SearchApi,
)

urlpatterns = [
    path("projects/<str:project_id>/documents", DocumentListCreateApi.as_view(), name="documents"),
    path("projects/<str:project_id>/documents/<str:document_id>", DocumentDetailApi.as_view(),
         name="document-detail"),
    path("projects/<str:project_id>/search", SearchApi.as_view(), name="knowledge-search"),
    path("doc-types", DocTypeListApi.as_view(), name="doc-types"),
    path("doc-types/<str:name>", DocTypeDetailApi.as_view(), name="doc-type-detail"),
]
