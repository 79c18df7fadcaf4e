"""``manage.py bootstrap_local`` (what ``make run`` prints): a UI address and a login that works."""
from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_make_run_prints_the_ui_and_a_login_and_key_that_work(settings, tmp_path, monkeypatch):
    settings.BASE_DIR = tmp_path  # var/ with the password and key goes here, not into the checkout
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("PORT", "9123")
    out = io.StringIO()
    call_command("bootstrap_local", stdout=out)
    text = out.getvalue()
    assert "UI:       http://127.0.0.1:9123/" in text
    password = re.search(r"user: admin\s+password: (\S+)", text).group(1)  # type: ignore[union-attr]
    key = re.search(r"API key:\s+(bp_\S+)", text).group(1)  # type: ignore[union-attr]

    browser = Client()
    signed_in = browser.post("/login/", {"username": "admin", "password": password})
    assert signed_in.status_code == 302
    assert browser.get("/").status_code == 200  # the projects page, behind the login
    assert Client().get("/api/projects", HTTP_X_API_KEY=key).status_code == 200

    again = io.StringIO()
    call_command("bootstrap_local", stdout=again)  # a second `make run` reuses both
    assert f"password: {password}" in again.getvalue() and key in again.getvalue()
    assert (tmp_path / "var" / "admin-password").stat().st_mode & 0o777 == 0o600
