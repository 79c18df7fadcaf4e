"""Writes of project files: every write is a new version, checked against the caller's version.

One path for all writers (REST, the build-mode ``write_file`` tool, direct-save), so the rules —
path, text only, size, version check, no file that is also a folder — hold for every one of them.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from django.conf import settings
from django.db import transaction

from apps.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from apps.projects.direct_save.apply import DirectSaveError, Patch, apply_patches, file_kind
from apps.projects.models import Project, ProjectFile, ProjectFileVersion
from apps.projects.paths import project_path_normalise, project_path_parents

FileSource = Literal["api", "tool", "direct_save"]
DEFAULT_MAX_FILE_BYTES = 1_000_000


class FileTooLarge(ApplicationError):
    status = 413
    code = "file_too_large"

    def __init__(self, size: int, limit: int, setting: str = "PROJECT_FILE_MAX_BYTES") -> None:
        super().__init__(
            f"content is {size} bytes; the limit for a project file is {limit} bytes ({setting})",
            extra={"field": "content", "limit": limit, "size": size},
        )


class VersionConflict(Conflict):
    """The caller's version is not the file's current one (someone else wrote in between)."""

    code = "version_conflict"

    def __init__(self, message: str, *, current_version: int | None) -> None:
        super().__init__(message, extra={"currentVersion": current_version})


class PathConflict(Conflict):
    code = "path_conflict"


def project_file_max_bytes() -> int:
    return int(getattr(settings, "PROJECT_FILE_MAX_BYTES", DEFAULT_MAX_FILE_BYTES))


def project_file_check_content(content: object, *, field: str = "content") -> bytes:
    """The UTF-8 bytes of a text file's content.

    Raises:
        ValidationFailed: not a string, or binary (NUL bytes, unpaired surrogates).
        FileTooLarge: over ``PROJECT_FILE_MAX_BYTES``.
    """
    if not isinstance(content, str):
        raise ValidationFailed(f"{field} must be a string (text files only)", field=field, code="not_text")
    if "\x00" in content:
        raise ValidationFailed(
            f"{field} contains NUL bytes: binary files are not supported, only UTF-8 text",
            field=field, code="not_text",
        )
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed(f"{field} is not valid UTF-8 text", field=field, code="not_text") from exc
    limit = project_file_max_bytes()
    if len(data) > limit:
        raise FileTooLarge(len(data), limit)
    return data


def project_file_decode(data: bytes, *, field: str = "content") -> str:
    """Raw request bytes as text.

    Raises:
        ValidationFailed: not UTF-8 or binary.
        FileTooLarge: over the limit.
    """
    limit = project_file_max_bytes()
    if len(data) > limit:
        raise FileTooLarge(len(data), limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"{field} is not UTF-8 text (byte {exc.start}): binary files are not supported",
            field=field, code="not_text",
        ) from exc
    project_file_check_content(text, field=field)
    return text


def _check_version(file: ProjectFile | None, *, path: str, expected_version: int | None,
                   create_only: bool, must_exist: bool = False) -> None:
    current = file.version if file is not None else None
    if must_exist and file is None:
        raise VersionConflict(f"{path!r} does not exist", current_version=None)
    if create_only and file is not None:
        raise VersionConflict(f"{path!r} already exists (version {current})", current_version=current)
    if expected_version is None:
        return
    if file is None:
        raise VersionConflict(
            f"{path!r} does not exist; expected version {expected_version}", current_version=None
        )
    if expected_version != current:
        raise VersionConflict(
            f"{path!r} is at version {current}, not {expected_version}: it changed since you read it",
            current_version=current,
        )


def _check_no_folder_clash(*, project: Project, path: str) -> None:
    """A file cannot also be a folder: the one way a path could stand for another (a link)."""
    scoped = ProjectFile.objects.filter(project=project)
    parent = scoped.filter(path__in=project_path_parents(path)).values_list("path", flat=True).first()
    if parent is not None:
        raise PathConflict(f"{path!r} would be inside {parent!r}, which is a file", extra={"field": "path"})
    if scoped.filter(path__startswith=path + "/").exists():
        raise PathConflict(f"{path!r} is a folder of other files", extra={"field": "path"})


@transaction.atomic
def project_file_write(
    *,
    project: Project,
    path: object,
    content: object,
    source: FileSource,
    expected_version: int | None = None,
    create_only: bool = False,
    must_exist: bool = False,
    author: Any = None,
    run_id: uuid.UUID | str | None = None,
) -> ProjectFile:
    """Create or replace one text file; its new state is also stored as a version.

    Args:
        expected_version: the version the caller read; None writes whatever is there.
        create_only: refuse if the file exists (``If-None-Match: *``).
        must_exist: refuse if it does not (``If-Match: *``).
        source: who writes — ``api``, ``tool`` (a model's tool call) or ``direct_save``.
    Returns:
        The file at its new version.
    Raises:
        InvalidPath, ValidationFailed, FileTooLarge: bad input; nothing written.
        VersionConflict: the file is not at ``expected_version`` (or exists, with ``create_only``).
        PathConflict: the path is inside a file, or is a folder of files.
    """
    normalised = project_path_normalise(path)
    data = project_file_check_content(content)
    assert isinstance(content, str)
    # Writes of one project are serialised: version numbers and the folder check need it.
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
    file = ProjectFile.objects.filter(project=project, path=normalised).first()
    _check_version(file, path=normalised, expected_version=expected_version, create_only=create_only,
                   must_exist=must_exist)
    digest = hashlib.sha256(data).hexdigest()
    if file is None:
        _check_no_folder_clash(project=project, path=normalised)
        file = ProjectFile.objects.create(
            project=project, path=normalised, content=content, version=1, size=len(data), sha256=digest
        )
    else:
        file.content = content
        file.version += 1
        file.size = len(data)
        file.sha256 = digest
        file.save(update_fields=["content", "version", "size", "sha256", "updated_at"])
    ProjectFileVersion.objects.create(
        file=file,
        version=file.version,
        content=content,
        size=len(data),
        sha256=digest,
        source=source,
        author=author if getattr(author, "pk", None) is not None else None,
        run_id=run_id or None,
    )
    return file


@transaction.atomic
def project_file_delete(*, project: Project, path: object, expected_version: int | None = None) -> None:
    """Delete a file and its history.

    Raises:
        InvalidPath: a bad path.
        NotFound: no such file in the project.
        VersionConflict: the file is not at ``expected_version``.
    """
    normalised = project_path_normalise(path)
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
    file = ProjectFile.objects.filter(project=project, path=normalised).first()
    if file is None:
        raise NotFound("File not found.")
    _check_version(file, path=normalised, expected_version=expected_version, create_only=False)
    file.delete()


class DirectSaveFailed(ApplicationError):
    """A patch could not be applied (422); ``index``/``selector``/``field`` name the culprit."""

    status = 422


_FIELD_OF_CODE = {
    "invalid_selector": "selector", "no_match": "selector", "ambiguous_match": "selector",
    "invalid_property": "property", "expression_attribute": "property", "not_plain_text": "property",
    "invalid_value": "value", "edit_breaks_file": "value",
}


@transaction.atomic
def project_file_direct_save(
    *,
    project: Project,
    path: object,
    patches: Sequence[Patch],
    expected_version: int | None = None,
    author: Any = None,
) -> ProjectFile:
    """Apply AST-based patches to an HTML/JSX/TSX file; the result is a new ``direct_save`` version.

    Returns:
        The file at its new version.
    Raises:
        InvalidPath: a bad path. NotFound: no such file.
        VersionConflict: the file is not at ``expected_version``.
        DirectSaveFailed: unsupported type, the file does not parse, or a patch cannot be
            applied (no match, several matches, an expression-valued attribute, …). Nothing written.
    """
    normalised = project_path_normalise(path, field="filePath")
    Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True).first()
    file = ProjectFile.objects.filter(project=project, path=normalised).first()
    if file is None:
        raise NotFound("File not found.", extra={"field": "filePath"})
    _check_version(file, path=normalised, expected_version=expected_version, create_only=False)
    try:
        content = apply_patches(file.content, kind=file_kind(normalised), patches=patches)
    except DirectSaveError as exc:
        field = f"patches[{exc.index}].{_FIELD_OF_CODE.get(exc.code, 'selector')}" if exc.index is not None \
            else "filePath"
        extra: dict[str, Any] = {"field": field}
        if exc.index is not None:
            extra.update(index=exc.index, selector=exc.selector)
        raise DirectSaveFailed(exc.message, code=exc.code, extra=extra) from exc
    return project_file_write(
        project=project, path=normalised, content=content, source="direct_save",
        expected_version=file.version, author=author,
    )
