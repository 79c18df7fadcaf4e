"""Every export format really works: run by Postgres, Django, tsc, Mermaid and validators."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from jsonschema import Draft202012Validator

from apps.domain.exports import EXPORT_FORMATS, export_domain_model
from apps.domain.exports.json_schema import export_json_schema, export_openapi
from tests.domain import node_tools
from tests.domain.models_fixtures import awkward, blog

MODELS = {"blog": blog, "awkward": awkward}


def _models() -> list[Any]:
    return [pytest.param(factory, id=name) for name, factory in MODELS.items()]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", _models())
def test_sql_ddl_executes_on_postgres(factory: Any) -> None:
    ddl, _ = export_domain_model(factory(), "sql")
    schema = f"export_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        try:
            cursor.execute(f'SET LOCAL search_path TO "{schema}"')
            cursor.execute(ddl)
            cursor.execute("select count(*) from information_schema.tables where table_schema = %s", [schema])
            tables = cursor.fetchone()[0]
            cursor.execute("select count(*) from information_schema.table_constraints "
                           "where table_schema = %s and constraint_type = 'FOREIGN KEY'", [schema])
            foreign_keys = cursor.fetchone()[0]
        finally:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
            cursor.execute("SET search_path TO DEFAULT")
    dsl = factory()
    joins = sum(1 for r in dsl["relationships"] if r["type"] == "many-to-many")
    assert tables == len(dsl["entities"]) + joins
    assert foreign_keys >= len(dsl["relationships"]) - 1


@pytest.mark.django_db
def test_sql_ddl_enforces_the_model() -> None:
    ddl, _ = export_domain_model(blog(), "sql")
    schema = f"export_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
        try:
            cursor.execute(f'SET LOCAL search_path TO "{schema}"')
            cursor.execute(ddl)
            cursor.execute("""insert into "user" (email, name, role) values ('a@x.test', 'A', 'admin')
                              returning id""")
            user_id = cursor.fetchone()[0]
            cursor.execute("""insert into post (title, slug, content, author_id, status)
                              values ('T', 't', 'body', %s, 'draft')""", [user_id])
            cursor.execute("savepoint bad_enum")
            with pytest.raises(Exception, match="post_status_check"):
                cursor.execute("""insert into post (title, slug, content, author_id, status)
                                  values ('T2', 't2', 'b', %s, 'deleted')""", [user_id])
            cursor.execute("rollback to savepoint bad_enum")
            with pytest.raises(Exception, match="foreign key"):
                cursor.execute("""insert into post (title, slug, content, author_id)
                                  values ('T3', 't3', 'b', gen_random_uuid())""")
            cursor.execute("rollback to savepoint bad_enum")
        finally:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
            cursor.execute("SET search_path TO DEFAULT")


def _throwaway_django(tmp_path: Path, models_py: str) -> subprocess.CompletedProcess[str]:
    app = tmp_path / "blueprint_export"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(models_py)
    (tmp_path / "throwaway_settings.py").write_text(textwrap.dedent(f"""
        SECRET_KEY = "throwaway"
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "blueprint_export"]
        DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                  "NAME": {str(tmp_path / "db.sqlite3")!r}}}}}
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        USE_TZ = True
    """))
    script = textwrap.dedent("""
        import django
        from django.core.management import call_command
        django.setup()
        call_command("check", "blueprint_export", fail_level="ERROR")
        call_command("makemigrations", "blueprint_export", dry_run=True, verbosity=1)
        call_command("makemigrations", "blueprint_export", verbosity=0)
        call_command("migrate", verbosity=0)
        from django.apps import apps
        print("MODELS", sorted(m.__name__ for m in apps.get_app_config("blueprint_export").get_models()))
    """)
    env = {"DJANGO_SETTINGS_MODULE": "throwaway_settings", "PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("factory", _models())
def test_django_models_pass_makemigrations_in_a_throwaway_app(tmp_path: Path, factory: Any) -> None:
    models_py, _ = export_domain_model(factory(), "django")
    result = _throwaway_django(tmp_path, models_py)
    assert result.returncode == 0, result.stderr + "\n" + models_py
    assert "Create model" in result.stdout
    listed = result.stdout.split("MODELS", 1)[1]
    for entity in factory()["entities"]:
        assert entity[:1].upper() in listed


def test_throwaway_app_rejects_a_broken_module(tmp_path: Path) -> None:
    """The harness can fail: a clash Django reports is caught."""
    models_py, _ = export_domain_model(blog(), "django")
    broken = models_py.replace("related_name='comments'", "related_name='posts'")
    result = _throwaway_django(tmp_path, broken)
    assert result.returncode != 0


@pytest.mark.parametrize("factory", _models())
def test_typescript_compiles_with_tsc(tmp_path: Path, factory: Any) -> None:
    tsc = node_tools.node_bin("tsc")
    source, _ = export_domain_model(factory(), "typescript")
    (tmp_path / "model.ts").write_text(source)
    names = list(factory()["entities"])
    usage = "import type { " + ", ".join(n[:1].upper() + n[1:] for n in names) + " } from './model';\n"
    usage += "export const n: number = 1;\n"
    (tmp_path / "use.ts").write_text(usage)
    result = subprocess.run([tsc, "--noEmit", "--strict", "--target", "es2020", "--module", "esnext",
                             "--moduleResolution", "bundler", "model.ts", "use.ts"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr + "\n" + source
    (tmp_path / "bad.ts").write_text("import type { Post } from './model';\n"
                                     "export const p: Post = { id: 1 } as unknown as Post;\n"
                                     "export const q: Post['status'] = 'nope';\n")
    if "Post" in names:
        bad = subprocess.run([tsc, "--noEmit", "--strict", "--moduleResolution", "bundler", "--module",
                              "esnext", "bad.ts"], cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert bad.returncode != 0 and "nope" in bad.stdout


def mermaid_parse(diagram: str) -> subprocess.CompletedProcess[str]:
    node = node_tools.node()
    node_tools.node_package("mermaid")
    node_tools.node_package("jsdom")
    script = Path(__file__).with_name("mermaid_parse.mjs")
    return subprocess.run([node, str(script)], input=diagram, cwd=node_tools.ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("factory", _models())
def test_mermaid_er_diagram_parses_with_mermaid(factory: Any) -> None:
    diagram, _ = export_domain_model(factory(), "mermaid")
    result = mermaid_parse(diagram)
    assert result.returncode == 0, result.stderr + "\n" + diagram
    assert json.loads(result.stdout.strip().splitlines()[-1])["diagramType"] == "er"


def test_mermaid_parser_rejects_a_broken_diagram() -> None:
    result = mermaid_parse("erDiagram\n    Post }o--|| : \"x\"\n    Post {{ uuid id PK\n")
    assert result.returncode == 1


@pytest.mark.parametrize("factory", _models())
def test_json_schema_is_a_valid_schema_that_accepts_a_record(factory: Any) -> None:
    schema = export_json_schema(factory())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    if "Post" in schema["$defs"]:
        record = {"id": str(uuid.uuid4()), "title": "Hello", "slug": "hello", "content": "…",
                  "authorId": str(uuid.uuid4()), "status": "draft", "tagIds": [str(uuid.uuid4())]}
        validator.validate(record)
        assert not validator.is_valid({**record, "status": "deleted"})
        assert not validator.is_valid({**record, "surprise": 1})
    assert len(schema["$defs"]) == len(factory()["entities"])


@pytest.mark.parametrize("factory", _models())
def test_openapi_components_validate(factory: Any) -> None:
    validator: Any = node_tools.python_module("openapi_spec_validator")
    document = export_openapi(factory())
    validator.validate(document)
    broken = {**document, "components": {"schemas": {"Post": {"type": "object", "required": "id"}}}}
    with pytest.raises(Exception, match="required"):
        validator.validate(broken)
    assert set(document["components"]["schemas"]) == set(factory()["entities"])


def test_every_format_renders_from_the_registry() -> None:
    for fmt in EXPORT_FORMATS:
        text, content_type = export_domain_model(blog(), fmt)
        assert text.strip() and content_type
