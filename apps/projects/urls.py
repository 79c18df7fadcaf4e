from django.urls import path

from apps.core.apis import method_view
from apps.projects.apis import (
    ProjectCreateApi,
    ProjectDeleteApi,
    ProjectDetailApi,
    ProjectListApi,
    ProjectUpdateApi,
)
from apps.projects.apis_direct_save import DirectSaveApi
from apps.projects.apis_files import (
    FileDeleteApi,
    FileDetailApi,
    FileListApi,
    FilePutApi,
    FileVersionListApi,
)

urlpatterns = [
    path("projects", method_view(ProjectListApi, ProjectCreateApi), name="projects"),
    path(
        "projects/<str:projectId>",
        method_view(ProjectDetailApi, ProjectUpdateApi, ProjectDeleteApi),
        name="project-detail",
    ),
    path("projects/<str:projectId>/files", FileListApi.as_view(), name="project-files"),
    path(
        "projects/<str:projectId>/files/<path:path>",
        method_view(FileDetailApi, FilePutApi, FileDeleteApi),
        name="project-file",
    ),
    path(
        "projects/<str:projectId>/file-versions/<path:path>",
        FileVersionListApi.as_view(),
        name="project-file-versions",
    ),
    path("direct-save/<str:projectId>", DirectSaveApi.as_view(), name="direct-save"),
]
