from django.urls import path

from apps.core.apis import method_view
from apps.projects.apis import (
    ProjectCreateApi,
    ProjectDeleteApi,
    ProjectDetailApi,
    ProjectListApi,
    ProjectUpdateApi,
)
from apps.projects.apis_modes import ModeCreateApi, ModeDeleteApi, ModeDetailApi, ModeListApi, ModeUpdateApi

urlpatterns = [
    path("projects", method_view(ProjectListApi, ProjectCreateApi), name="projects"),
    path(
        "projects/<str:projectId>",
        method_view(ProjectDetailApi, ProjectUpdateApi, ProjectDeleteApi),
        name="project-detail",
    ),
    path("projects/<str:projectId>/modes", method_view(ModeListApi, ModeCreateApi), name="project-modes"),
    path("projects/<str:projectId>/modes/<str:name>", method_view(ModeDetailApi, ModeUpdateApi, ModeDeleteApi),
         name="project-mode"),
]
