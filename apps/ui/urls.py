"""The browser UI (SPEC §10) owns ``/`` outside ``/api/``, ``/v1/`` and ``/admin/``."""
from typing import Any

from django.conf import settings
from django.urls import path, re_path

from apps.ui import views

app_name = "ui"

urlpatterns: list[Any] = [
    path("", views.projects_page, name="projects"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("projects/<str:project_id>/", views.project_page, name="project"),
    path("projects/<str:project_id>/chats/<str:chat_id>/", views.chat_page, name="chat"),
]

if getattr(settings, "UI_SERVE_STATIC", False):
    urlpatterns.append(
        re_path(r"^" + settings.STATIC_URL.strip("/") + r"/(?P<path>.*)$", views.static_serve, name="static")
    )
