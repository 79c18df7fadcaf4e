"""The browser UI's pages: server-rendered shells whose ES modules read and write through the REST/streaming APIs.

A page only checks that the project/chat belongs to the signed-in user's workspace (another
workspace's object is a 404 like a missing one); everything else is loaded by the browser.
"""
from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles.views import serve as staticfiles_serve
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie

from apps.chats.selectors import chat_get
from apps.core.auth import principal_for_user
from apps.core.errors import NotFound
from apps.core.principal import Principal
from apps.projects.models import Project
from apps.projects.selectors import project_get
from apps.ui.security import with_csp

LOGIN_URL = "ui:login"


def _principal(request: HttpRequest) -> Principal | None:
    return principal_for_user(request.user)


def _no_workspace(request: HttpRequest) -> HttpResponse:
    return render(request, "ui/no_workspace.html", status=403)


def _project(principal: Principal, project_id: str) -> Project:
    try:
        return project_get(workspace=principal.workspace, project_id=project_id)
    except NotFound:
        raise Http404("No such project.") from None


@with_csp
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def projects_page(request: HttpRequest) -> HttpResponse:
    principal = _principal(request)
    if principal is None:
        return _no_workspace(request)
    return render(request, "ui/projects.html", {"workspace": principal.workspace})


@with_csp
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def project_page(request: HttpRequest, project_id: str) -> HttpResponse:
    principal = _principal(request)
    if principal is None:
        return _no_workspace(request)
    project = _project(principal, project_id)
    return render(request, "ui/project.html", {"project": project})


@with_csp
@login_required(login_url=LOGIN_URL)
@ensure_csrf_cookie
def chat_page(request: HttpRequest, project_id: str, chat_id: str) -> HttpResponse:
    principal = _principal(request)
    if principal is None:
        return _no_workspace(request)
    project = _project(principal, project_id)
    try:
        chat = chat_get(workspace=principal.workspace, chat_id=chat_id, project=project)
    except NotFound:
        raise Http404("No such chat.") from None
    return render(request, "ui/chat.html", {"project": project, "chat": chat})


@method_decorator(with_csp, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "ui/login.html"
    redirect_authenticated_user = True
    next_page = "ui:projects"


@method_decorator(with_csp, name="dispatch")
class LogoutView(auth_views.LogoutView):
    next_page = "ui:login"


def static_serve(request: HttpRequest, path: str, **kwargs: Any) -> HttpResponseBase:
    """Static files from the finders (static/, apps' static/) without collectstatic, for local use and tests.

    Production serves ``collectstatic``'s output from the proxy and sets ``UI_SERVE_STATIC=false``.
    """
    response: HttpResponseBase = staticfiles_serve(request, path, insecure=True)
    if isinstance(response, FileResponse):
        # Under ASGI a file iterator is consumed synchronously anyway (with a warning); the
        # files are small, so read them whole.
        with response.file_to_stream or open(os.devnull, "rb") as handle:
            served = HttpResponse(handle.read(), status=response.status_code)
        for header in ("Content-Type", "Last-Modified", "Content-Disposition"):
            if header in response:
                served[header] = response[header]
        response = served
    response.setdefault("X-Content-Type-Options", "nosniff")
    return response
