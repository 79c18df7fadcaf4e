"""REST: /api/projects/{projectId}/files[/{path}] and …/file-versions/{path}."""
from __future__ import annotations

import hashlib
import threading

import pytest
from django.db import connection

from apps.projects.models import ProjectFile, ProjectFileVersion

pytestmark = pytest.mark.django_db


def files_url(tenant, path: str = "") -> str:
    base = f"/api/projects/{tenant.project.pk}/files"
    return f"{base}/{path}" if path else base


def put(tenant, path, content, **headers):
    return tenant.client.put(files_url(tenant, path), {"content": content}, format="json", **headers)


def test_create_read_update_with_etags_and_history(tenant):
    created = put(tenant, "src/components/Hero.tsx", "export const A = 1;\n")
    assert created.status_code == 201
    assert created["ETag"] == '"1"'
    body = created.json()
    assert body["path"] == "src/components/Hero.tsx" and body["version"] == 1
    assert body["size"] == len(b"export const A = 1;\n")
    assert body["sha256"] == hashlib.sha256(b"export const A = 1;\n").hexdigest()

    read = tenant.client.get(files_url(tenant, "src/components/Hero.tsx"))
    assert read.status_code == 200 and read["ETag"] == '"1"'
    assert read.json()["content"] == "export const A = 1;\n"

    updated = put(tenant, "src/components/Hero.tsx", "export const A = 2;\n", HTTP_IF_MATCH='"1"')
    assert updated.status_code == 200 and updated["ETag"] == '"2"' and updated.json()["version"] == 2

    versions = tenant.client.get(f"/api/projects/{tenant.project.pk}/file-versions/src/components/Hero.tsx")
    assert versions.status_code == 200
    listed = versions.json()
    assert listed["currentVersion"] == 2 and [v["version"] for v in listed["versions"]] == [2, 1]
    assert {v["source"] for v in listed["versions"]} == {"api"}
    assert listed["versions"][0]["authorId"] == tenant.user.pk

    old = tenant.client.get(files_url(tenant, "src/components/Hero.tsx") + "?version=1")
    assert old.status_code == 200 and old["ETag"] == '"1"'
    assert old.json()["content"] == "export const A = 1;\n" and old.json()["currentVersion"] == 2
    missing = tenant.client.get(files_url(tenant, "src/components/Hero.tsx") + "?version=9")
    assert missing.status_code == 404


def test_raw_text_body_and_conditional_get(tenant):
    response = tenant.client.put(
        files_url(tenant, "README.md"), data="# Hi\r\nünïcode ✓\r\n".encode(), content_type="text/markdown"
    )
    assert response.status_code == 201
    assert ProjectFile.objects.get(path="README.md").content == "# Hi\r\nünïcode ✓\r\n"
    not_modified = tenant.client.get(files_url(tenant, "README.md"), HTTP_IF_NONE_MATCH='"1"')
    assert not_modified.status_code == 304 and not_modified["ETag"] == '"1"'
    assert tenant.client.get(files_url(tenant, "README.md"), HTTP_IF_NONE_MATCH='"0"').status_code == 200


def test_stale_write_is_a_409_with_the_current_version_and_writes_nothing(tenant):
    put(tenant, "a.txt", "one")
    put(tenant, "a.txt", "two")
    for kwargs in ({"HTTP_IF_MATCH": '"1"'}, {"HTTP_IF_MATCH": 'W/"1"'}):
        stale = put(tenant, "a.txt", "three", **kwargs)
        assert stale.status_code == 409
        assert stale.json()["error"] == {
            "code": "version_conflict",
            "message": "'a.txt' is at version 2, not 1: it changed since you read it",
            "currentVersion": 2,
        }
    by_body = tenant.client.put(files_url(tenant, "a.txt"), {"content": "x", "expectedVersion": 1}, format="json")
    by_query = tenant.client.put(files_url(tenant, "a.txt") + "?expectedVersion=1", {"content": "x"}, format="json")
    assert by_body.status_code == by_query.status_code == 409
    assert ProjectFile.objects.get(path="a.txt").content == "two"
    assert ProjectFileVersion.objects.filter(file__path="a.txt").count() == 2
    fresh = tenant.client.put(files_url(tenant, "a.txt"), {"content": "x", "expectedVersion": 2}, format="json")
    assert fresh.status_code == 200 and fresh.json()["version"] == 3


def test_create_only_and_must_exist(tenant):
    assert put(tenant, "new.txt", "a", HTTP_IF_NONE_MATCH="*").status_code == 201
    again = put(tenant, "new.txt", "b", HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 409 and again.json()["error"]["currentVersion"] == 1
    zero = tenant.client.put(files_url(tenant, "new.txt"), {"content": "b", "expectedVersion": 0}, format="json")
    assert zero.status_code == 409
    absent = put(tenant, "absent.txt", "b", HTTP_IF_MATCH="*")
    assert absent.status_code == 409 and absent.json()["error"]["currentVersion"] is None
    assert put(tenant, "absent.txt", "b", HTTP_IF_MATCH='"3"').status_code == 409
    assert not ProjectFile.objects.filter(path="absent.txt").exists()
    assert ProjectFile.objects.get(path="new.txt").content == "a"


def test_concurrent_writers_with_the_same_version_one_wins(tenant, transactional_db):
    put(tenant, "race.txt", "base")
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(put(tenant, "race.txt", f"writer {n}", HTTP_IF_MATCH='"1"').status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 409, 409, 409]
    file = ProjectFile.objects.get(path="race.txt")
    assert file.version == 2 and file.content.startswith("writer ")


def test_list_with_prefix_has_no_content(tenant):
    for path in ("src/a.ts", "src/b/c.ts", "docs/x.md"):
        put(tenant, path, path)
    listed = tenant.client.get(files_url(tenant))
    assert listed.status_code == 200
    files = listed.json()["files"]
    assert [f["path"] for f in files] == ["docs/x.md", "src/a.ts", "src/b/c.ts"]
    assert set(files[0]) == {"path", "version", "size", "sha256", "updatedAt"}
    only_src = tenant.client.get(files_url(tenant) + "?prefix=src/")
    assert [f["path"] for f in only_src.json()["files"]] == ["src/a.ts", "src/b/c.ts"]


def test_delete_checks_the_version_and_removes_the_history(tenant):
    put(tenant, "gone.txt", "1")
    put(tenant, "gone.txt", "2")
    stale = tenant.client.delete(files_url(tenant, "gone.txt"), HTTP_IF_MATCH='"1"')
    assert stale.status_code == 409 and stale.json()["error"]["currentVersion"] == 2
    assert tenant.client.delete(files_url(tenant, "gone.txt") + "?expectedVersion=2").status_code == 204
    assert not ProjectFile.objects.filter(path="gone.txt").exists()
    assert not ProjectFileVersion.objects.filter(file__path="gone.txt").exists()
    assert tenant.client.delete(files_url(tenant, "gone.txt")).status_code == 404
    assert tenant.client.get(files_url(tenant, "gone.txt")).status_code == 404


def test_size_limit_is_a_413_naming_the_limit(tenant, settings):
    settings.PROJECT_FILE_MAX_BYTES = 100
    json_body = put(tenant, "big.txt", "é" * 51)  # 102 bytes
    assert json_body.status_code == 413
    error = json_body.json()["error"]
    assert error["code"] == "file_too_large" and error["limit"] == 100 and error["size"] == 102
    assert "100 bytes" in error["message"] and error["field"] == "content"
    raw = tenant.client.put(files_url(tenant, "big.txt"), data=b"x" * 101, content_type="text/plain")
    assert raw.status_code == 413 and raw.json()["error"]["limit"] == 100
    assert put(tenant, "big.txt", "x" * 100).status_code == 201


def test_djangos_own_body_cap_is_also_a_413(tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50
    response = tenant.client.put(files_url(tenant, "big.txt"), data=b"x" * 80, content_type="text/plain")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large" and error["limit"] == 50
    assert "(DATA_UPLOAD_MAX_MEMORY_SIZE)" in error["message"]
    assert not ProjectFile.objects.exists()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("..%2F..%2Fetc%2Fpasswd", "path"),
        ("src/%2E%2E/%2E%2E/x", "path"),
        ("C:/boot.ini", "path"),
        ("a//b.txt", "path"),
        ("a%5Cb.txt", "path"),
        ("a%00b.txt", "path"),
        ("dir/", "path"),
    ],
)
def test_bad_paths_are_400_naming_the_path_and_write_nothing(tenant, path, field):
    response = tenant.client.put(f"/api/projects/{tenant.project.pk}/files/{path}", {"content": "x"},
                                 format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_path" and error["field"] == field
    assert not ProjectFile.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "content", "invalid_request"),
        ({"content": 5}, "content", "not_text"),
        ({"content": "a\u0000b"}, "content", "not_text"),
        ({"content": "x", "expectedVersion": "two"}, "expectedVersion", "invalid_request"),
        ({"content": "x", "mode": "120000"}, "mode", "invalid_request"),
        ({"content": "x", "symlink": "/etc/passwd"}, "symlink", "invalid_request"),
        ({"content": "x", "colour": "red"}, "colour", "invalid_request"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(tenant, body, field, code):
    response = tenant.client.put(files_url(tenant, "f.txt"), body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"] == field and error["code"] == code
    assert not ProjectFile.objects.exists()


def test_links_and_modes_are_refused_with_a_reason(tenant):
    response = tenant.client.put(files_url(tenant, "l"), {"content": "x", "symlink": "../../etc"}, format="json")
    assert "links, modes and types cannot be set" in response.json()["error"]["message"]


def test_binary_raw_bodies_are_refused(tenant):
    for data in (b"\x89PNG\r\n\x1a\n\x00\x00", b"\xff\xfe\x00a"):
        response = tenant.client.put(files_url(tenant, "img.png"), data=data, content_type="application/octet-stream")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "not_text" and error["field"] == "content" and "binary" in error["message"]
    assert not ProjectFile.objects.exists()


def test_bad_version_headers_are_400(tenant):
    put(tenant, "v.txt", "1")
    for header in ('"abc"', '"-1"', "1, 2"):
        response = put(tenant, "v.txt", "2", HTTP_IF_MATCH=header)
        assert response.status_code == 400 and response.json()["error"]["field"] == "If-Match"
    clash = tenant.client.put(files_url(tenant, "v.txt") + "?expectedVersion=2", {"content": "x"},
                              format="json", HTTP_IF_MATCH='"1"')
    assert clash.status_code == 400 and clash.json()["error"]["field"] == "expectedVersion"
    bad_query = tenant.client.get(files_url(tenant, "v.txt") + "?version=latest")
    assert bad_query.status_code == 400 and bad_query.json()["error"]["field"] == "version"
    assert ProjectFile.objects.get(path="v.txt").version == 1


def test_another_workspace_gets_404_on_every_route(tenant, other_tenant):
    put(tenant, "secret/plan.md", "ours")
    project = tenant.project.pk
    client = other_tenant.client
    routes = [
        client.get(f"/api/projects/{project}/files"),
        client.get(f"/api/projects/{project}/files/secret/plan.md"),
        client.get(f"/api/projects/{project}/files/secret/plan.md?version=1"),
        client.get(f"/api/projects/{project}/file-versions/secret/plan.md"),
        client.put(f"/api/projects/{project}/files/secret/plan.md", {"content": "theirs"}, format="json"),
        client.put(f"/api/projects/{project}/files/new.md", {"content": "theirs"}, format="json"),
        client.delete(f"/api/projects/{project}/files/secret/plan.md"),
        client.post(f"/api/direct-save/{project}", {"filePath": "secret/plan.md", "patches": [
            {"selector": "h1", "property": "text", "value": "x"}]}, format="json"),
    ]
    for response in routes:
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    # Indistinguishable from a project that does not exist.
    nowhere = client.get("/api/projects/00000000-0000-0000-0000-000000000000/files")
    assert nowhere.status_code == 404 and nowhere.json() == routes[0].json()
    assert ProjectFile.objects.get(path="secret/plan.md").content == "ours"
    assert ProjectFile.objects.count() == 1


def test_unauthenticated_is_401(tenant):
    from rest_framework.test import APIClient

    assert APIClient().get(files_url(tenant)).status_code == 401
