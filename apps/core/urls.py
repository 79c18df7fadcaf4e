from django.urls import path

from apps.core.apis import ApiKeyCreateApi, ApiKeyListApi, ApiKeyRevokeApi, HealthApi, method_view

urlpatterns = [
    path("health", HealthApi.as_view(), name="health"),
    path("api-keys", method_view(ApiKeyListApi, ApiKeyCreateApi), name="api-keys"),
    path("api-keys/<str:keyId>", method_view(ApiKeyRevokeApi), name="api-key-detail"),
]
