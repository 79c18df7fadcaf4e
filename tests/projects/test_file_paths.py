"""The one path rule for project files (apps/projects/paths.py) and its users."""
from __future__ import annotations

import pytest

from apps.engine.tools import ToolFailed, safe_project_path
from apps.projects.file_services import PathConflict, project_file_write
from apps.projects.models import ProjectFile
from apps.projects.paths import InvalidPath, project_path_normalise, project_path_parents


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("src/App.tsx", "src/App.tsx"),
        ("./src/./App.tsx", "src/App.tsx"),
        ("  index.html\n", "index.html"),
        ("pages/[id]/(group)/page.tsx", "pages/[id]/(group)/page.tsx"),
        (".github/workflows/ci.yml", ".github/workflows/ci.yml"),
        ("docs/überblick.md", "docs/überblick.md"),
        ("docs/u\u0308berblick.md", "docs/überblick.md"),  # decomposed → one canonical (NFC) form
        ("a/" * 249 + "b", "a/" * 249 + "b"),
    ],
)
def test_relative_paths_are_normalised(raw, expected):
    assert project_path_normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("../etc/passwd", "leaves the project"),
        ("src/../../x", "leaves the project"),
        ("src/..", "leaves the project"),
        ("/etc/passwd", "absolute"),
        ("~/.ssh/id_rsa", "absolute"),
        ("C:/Windows/win.ini", "absolute"),
        ("c:evil", "absolute"),
        ("file:///etc/passwd", "absolute"),
        ("src\\..\\x", "forbidden character '\\\\'"),
        ("a\x00b", "forbidden character"),
        ("a\nb/c", "forbidden character"),
        ("a\x7fb", "forbidden character"),
        ("a\x85b", "forbidden character"),
        ("a\u202eb.txt", "invisible"),
        ("a\u200bb.txt", "invisible"),
        ("src//App.tsx", "empty segment"),
        ("src/", "names a folder"),
        (".", "not a file"),
        ("./", "names a folder"),
        ("src/app. ", "ending in a space or a dot"),
        ("src/app.", "ending in a space or a dot"),
        ("what?.txt", "forbidden character '?'"),
        ("x" * 501, "longer than 500"),
        ("a/" + "x" * 256, "segment longer than 255"),
        ("", "must not be empty"),
        ("   ", "must not be empty"),
    ],
)
def test_paths_that_could_escape_or_alias_are_refused(raw, says):
    with pytest.raises(InvalidPath) as caught:
        project_path_normalise(raw)
    assert says in caught.value.message
    assert caught.value.code == "invalid_path" and caught.value.extra["field"] == "path"
    assert caught.value.status == 400


@pytest.mark.parametrize("value", [None, 3, ["a"], b"a.txt"])
def test_non_strings_are_refused(value):
    with pytest.raises(InvalidPath, match="must be a string"):
        project_path_normalise(value)


def test_the_field_name_is_the_callers():
    with pytest.raises(InvalidPath) as caught:
        project_path_normalise("../x", field="filePath")
    assert caught.value.extra["field"] == "filePath" and caught.value.message.startswith("filePath")


def test_parents():
    assert project_path_parents("a/b/c.txt") == ["a", "a/b"]
    assert project_path_parents("c.txt") == []


def test_the_tool_name_keeps_working_and_raises_tool_failed():
    assert safe_project_path("./src/app.py") == "src/app.py"
    with pytest.raises(ToolFailed, match="leaves the project"):
        safe_project_path("../etc/passwd")
    with pytest.raises(ToolFailed, match="absolute"):
        safe_project_path("/etc/passwd")


@pytest.mark.django_db
def test_a_file_cannot_also_be_a_folder(tenant):
    """No links in a stored tree: the one way a path could alias another is a file/folder clash."""
    project = tenant.project
    project_file_write(project=project, path="src", content="I am a file", source="api")
    with pytest.raises(PathConflict, match="inside 'src', which is a file"):
        project_file_write(project=project, path="src/app.ts", content="x", source="api")
    project_file_write(project=project, path="lib/util.ts", content="u", source="api")
    with pytest.raises(PathConflict, match="is a folder of other files"):
        project_file_write(project=project, path="lib", content="x", source="api")
    assert sorted(ProjectFile.objects.filter(project=project).values_list("path", flat=True)) == [
        "lib/util.ts", "src",
    ]
