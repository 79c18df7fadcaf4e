from django.urls import path

from apps.core.apis import method_view
from apps.projects.apis import (
    ProjectCreateApi,
    ProjectDeleteApi,
    ProjectDetailApi,
    ProjectListApi,
    ProjectUpdateApi,
)

urlpatterns = [
    path("projects", method_view(ProjectListApi, ProjectCreateApi), name="projects"),
    path(
        "projects/<str:projectId>",
        method_view(ProjectDetailApi, ProjectUpdateApi, ProjectDeleteApi),
        name="project-detail",
    ),
]
