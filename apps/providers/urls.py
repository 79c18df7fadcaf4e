from django.urls import path

from apps.providers.apis import ModelListApi

urlpatterns = [
    path("models", ModelListApi.as_view(), name="models"),
]
