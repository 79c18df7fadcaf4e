from django.urls import path

from apps.domain.apis import (
    DomainModelApi,
    DomainModelDiffApi,
    DomainModelExportApi,
    DomainModelVersionApi,
    DomainModelVersionListApi,
    DslSchemaApi,
)

urlpatterns = [
    path("schema/dsl.json", DslSchemaApi.as_view(), name="dsl-schema"),
    path("chats/<str:chat_id>/domain-model", DomainModelApi.as_view(), name="domain-model"),
    path("chats/<str:chat_id>/domain-model/versions", DomainModelVersionListApi.as_view(),
         name="domain-model-versions"),
    path("chats/<str:chat_id>/domain-model/versions/<int:version>", DomainModelVersionApi.as_view(),
         name="domain-model-version"),
    path("chats/<str:chat_id>/domain-model/diff", DomainModelDiffApi.as_view(), name="domain-model-diff"),
    path("chats/<str:chat_id>/domain-model/export", DomainModelExportApi.as_view(),
         name="domain-model-export"),
]
