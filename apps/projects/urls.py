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
