"""Fault classification helpers shared by the providers."""
from __future__ import annotations

import email.utils

import pytest

from apps.providers.faults import classify_error_type, classify_status, parse_retry_after

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
    ({"Retry-After": email.utils.formatdate(NOW - 30, usegmt=True)}, 0.0),
    ({"Retry-After": "-4"}, 0.0),
    ({"Retry-After": "soon"}, None),
    ({}, None),
    (None, None),
])
def test_parse_retry_after(headers, expected):
    assert parse_retry_after(headers, now=NOW) == expected


def test_retry_after_is_bounded():
    assert parse_retry_after({"Retry-After": "99999999"}) == 3600.0


@pytest.mark.parametrize(("status", "code", "retryable"), [
    (400, "bad_request", False), (401, "authentication_failed", False), (403, "authentication_failed", False),
    (404, "bad_request", False), (408, "timeout", True), (409, "upstream_error", True),
    (413, "bad_request", False), (422, "bad_request", False), (429, "rate_limited", True),
    (500, "upstream_unavailable", True), (502, "upstream_unavailable", True),
    (503, "upstream_unavailable", True), (504, "upstream_unavailable", True), (529, "upstream_unavailable", True),
])
def test_classify_status(status, code, retryable):
    error = classify_status(status, "boom", headers={"Retry-After": "3"})
    assert (error.code, error.retryable, error.status) == (code, retryable, status)
    assert error.retry_after == (3.0 if status in (429, 500, 502, 503, 504, 529) else None)


@pytest.mark.parametrize(("error_type", "code", "retryable"), [
    ("overloaded_error", "upstream_unavailable", True), ("api_error", "upstream_unavailable", True),
    ("server_error", "upstream_unavailable", True), ("rate_limit_error", "rate_limited", True),
    ("timeout_error", "timeout", True), ("authentication_error", "authentication_failed", False),
    ("invalid_request_error", "bad_request", False), (None, "upstream_error", True),
])
def test_classify_error_type(error_type, code, retryable):
    error = classify_error_type(error_type, "boom")
    assert (error.code, error.retryable) == (code, retryable)
