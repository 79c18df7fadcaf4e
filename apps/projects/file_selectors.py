"""Reads of project files and their versions (the project is already scoped to the caller)."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound, ValidationFailed
from apps.projects.models import Project, ProjectFile, ProjectFileVersion
from apps.projects.paths import MAX_PATH_CHARS, project_path_normalise


def project_file_list(*, project: Project, prefix: str | None = None) -> QuerySet[ProjectFile]:
    """The project's files by path, without their content.

    Raises:
        ValidationFailed: a prefix that is not a string or is too long.
    """
    files = ProjectFile.objects.filter(project=project).defer("content").order_by("path")
    if prefix:
        if not isinstance(prefix, str) or len(prefix) > MAX_PATH_CHARS or "\x00" in prefix:
            raise ValidationFailed(f"prefix must be at most {MAX_PATH_CHARS} characters", field="prefix")
        files = files.filter(path__startswith=prefix)
    return files


def project_file_get(*, project: Project, path: object) -> ProjectFile:
    """Raises InvalidPath for a bad path, NotFound for a missing file."""
    normalised = project_path_normalise(path)
    file = ProjectFile.objects.filter(project=project, path=normalised).first()
    if file is None:
        raise NotFound("File not found.")
    return file


def project_file_version_get(*, project: Project, path: object, version: int) -> ProjectFileVersion:
    """One stored version of a file; NotFound when the file or that version does not exist."""
    file = project_file_get(project=project, path=path)
    found = ProjectFileVersion.objects.filter(file=file, version=version).select_related("file").first()
    if found is None:
        raise NotFound(f"Version {version} of this file not found.")
    return found


def project_file_version_list(*, project: Project, path: object) -> tuple[ProjectFile, QuerySet[ProjectFileVersion]]:
    """The file and its versions, newest first, without their content."""
    file = project_file_get(project=project, path=path)
    versions = ProjectFileVersion.objects.filter(file=file).defer("content").order_by("-version")
    return file, versions
