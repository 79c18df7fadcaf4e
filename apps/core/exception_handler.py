"""Maps every error a DRF view can raise to the one JSON error shape."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from apps.core.errors import ApplicationError


def _first_field_error(detail: Any, prefix: str = "") -> tuple[str | None, str]:
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                name = prefix or None
            return _first_field_error(value, name or "")
    if isinstance(detail, list) and detail:
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list)):
                return _first_field_error(item, f"{prefix}[{index}]")
            return (prefix or None), str(item)
    return (prefix or None), str(detail)


def error_response(exc: ApplicationError) -> Response:
    headers = {}
    retry_after = exc.extra.get("retryAfter")
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response({"error": exc.as_dict()}, status=exc.status, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return Response({"error": {"code": "payload_too_large", "message": "The request body is too large."}},
                        status=413)
    if isinstance(exc, Http404):
        return Response({"error": {"code": "not_found", "message": "Not found."}}, status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response({"error": {"code": "forbidden", "message": "Forbidden."}}, status=403)
    if isinstance(exc, drf.ValidationError):
        field, message = _first_field_error(exc.detail)
        body: dict[str, Any] = {
            "code": "invalid_request",
            "message": f"{field}: {message}" if field else message,
            "details": exc.detail,
        }
        if field:
            body["field"] = field
        return Response({"error": body}, status=400)
    if isinstance(exc, drf.ParseError):
        return Response(
            {"error": {"code": "malformed_json", "message": f"Malformed request body: {exc.detail}"}},
            status=400,
        )
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return Response(
            {"error": {"code": "unauthenticated", "message": str(exc.detail)}},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
    if isinstance(exc, drf.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        headers = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait))
        return Response(
            {"error": {"code": str(code), "message": str(exc.detail)}},
            status=exc.status_code,
            headers=headers,
        )
    return None
