"""HTTP routes served by Django (non-streaming). Streaming routes live in config/routing.py."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("apps.core.urls")),
    path("api/", include("apps.projects.urls")),
    path("api/", include("apps.chats.urls")),
    path("api/", include("apps.providers.urls")),
    path("api/", include("apps.domain.urls")),
    path("api/", include("apps.knowledge.urls")),
    path("api/", include("apps.plans.urls")),
    path("api/", include("apps.streaming.urls")),
    path("", include("apps.ui.urls")),
]
