"""Classifying upstream faults into ``ProviderError`` — the SDK-independent half.

Each provider module unwraps its own SDK's exceptions into (status, error type, headers) and
calls these helpers, so every provider classifies the same fault the same way:

=============================================  =======================  =========
fault                                          code                     retryable
=============================================  =======================  =========
429, ``rate_limit_error``                      ``rate_limited``         yes (honours Retry-After)
5xx, 529, ``overloaded_error``, ``api_error``  ``upstream_unavailable`` yes
408, ``timeout_error`` event                   ``timeout``              yes
refused / reset / dropped / client timeouts    ``connection_error``     yes
401, 403                                       ``authentication_failed`` no
400, 404, 413, 422 and other 4xx               ``bad_request``          no
anything else (malformed stream, …)            ``upstream_error``       no
=============================================  =======================  =========
"""
from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from apps.providers.base import ProviderError

RETRY_AFTER_CAP_SECONDS = 3600.0

# Error types named in error bodies and mid-stream error events (Anthropic's and OpenAI's
# spellings, plus what OpenAI-compatible servers commonly send).
_TYPE_CLASSES: dict[str, tuple[str, bool]] = {
    "overloaded_error": ("upstream_unavailable", True),
    "overloaded": ("upstream_unavailable", True),
    "api_error": ("upstream_unavailable", True),
    "server_error": ("upstream_unavailable", True),
    "service_unavailable": ("upstream_unavailable", True),
    "internal_error": ("upstream_unavailable", True),
    "rate_limit_error": ("rate_limited", True),
    "rate_limit_exceeded": ("rate_limited", True),
    "requests": ("rate_limited", True),
    "tokens": ("rate_limited", True),
    "timeout_error": ("timeout", True),
    "timeout": ("timeout", True),
    "authentication_error": ("authentication_failed", False),
    "invalid_api_key": ("authentication_failed", False),
    "permission_error": ("authentication_failed", False),
    "permission_denied": ("authentication_failed", False),
    "billing_error": ("authentication_failed", False),
    "insufficient_quota": ("authentication_failed", False),
    "invalid_request_error": ("bad_request", False),
    "not_found_error": ("bad_request", False),
    "request_too_large": ("bad_request", False),
    "context_length_exceeded": ("bad_request", False),
}


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return _clamp(float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return _clamp(float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return _clamp(when.timestamp() - current)


def _clamp(seconds: float) -> float | None:
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def classify_status(status: int, message: str, *, error_type: str | None = None,
                    headers: Mapping[str, str] | None = None) -> ProviderError:
    """A ProviderError for an HTTP error status (``error_type`` refines a 200 or unknown status)."""
    if status == 429:
        return ProviderError(message, code="rate_limited", retryable=True,
                             retry_after=parse_retry_after(headers), status=status)
    if status in (401, 403):
        return ProviderError(message, code="authentication_failed", retryable=False, status=status)
    if status == 408:
        return ProviderError(message, code="timeout", retryable=True, status=status)
    if status == 409:  # a lock or concurrent-request conflict upstream: transient
        return ProviderError(message, code="upstream_error", retryable=True, status=status)
    if status >= 500:
        return ProviderError(message, code="upstream_unavailable", retryable=True,
                             retry_after=parse_retry_after(headers), status=status)
    if 400 <= status < 500:
        return ProviderError(message, code="bad_request", retryable=False, status=status)
    return classify_error_type(error_type, message, status=status, headers=headers)


def classify_error_type(error_type: str | None, message: str, *, status: int | None = None,
                        headers: Mapping[str, str] | None = None) -> ProviderError:
    """A ProviderError for an error named by type (a mid-stream ``error`` event or chunk).

    An unknown type mid-stream is treated as transient: the upstream broke off an answer.
    """
    code, retryable = _TYPE_CLASSES.get((error_type or "").lower(), ("upstream_error", True))
    retry_after = parse_retry_after(headers) if code == "rate_limited" else None
    return ProviderError(message, code=code, retryable=retryable, retry_after=retry_after, status=status)


def error_type_from_body(body: Any) -> str | None:
    """``error.type`` (or ``type``) from an error body, whichever shape the upstream used."""
    if not isinstance(body, Mapping):
        return None
    inner = body.get("error")
    if isinstance(inner, Mapping):
        found = inner.get("type") or inner.get("code")
        return str(found) if found is not None else None
    found = body.get("type") or body.get("code")
    return str(found) if found is not None and found != "error" else None


def status_from_body(body: Any) -> int | None:
    """A numeric ``code`` in an error body (OpenRouter reports mid-stream faults this way)."""
    if not isinstance(body, Mapping):
        return None
    inner = body.get("error")
    source = inner if isinstance(inner, Mapping) else body
    code = source.get("code")
    if isinstance(code, int) and 100 <= code <= 599:
        return code
    if isinstance(code, str) and code.isdigit() and 100 <= int(code) <= 599:
        return int(code)
    return None


def connection_error(message: str) -> ProviderError:
    return ProviderError(message, code="connection_error", retryable=True)


def malformed_stream(message: str) -> ProviderError:
    return ProviderError(message, code="upstream_error", retryable=False)
