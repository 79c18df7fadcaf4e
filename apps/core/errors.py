"""One error family with stable machine codes; each transport maps it once.

REST renders ``{"error": {"code", "message", ...extra}}`` with ``status``; the
streaming dialects map the same ``code`` into their own wire format.
"""
from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status: int = 400
    code: str = "invalid_request"
    retry: bool = False

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 extra: dict[str, Any] | None = None, retry: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retry is not None:
            self.retry = retry
        self.extra: dict[str, Any] = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class ValidationFailed(ApplicationError):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        extra = kwargs.pop("extra", None) or {}
        if field is not None:
            extra["field"] = field
        super().__init__(message, extra=extra, **kwargs)


class NotFound(ApplicationError):
    status = 404
    code = "not_found"


class AuthenticationFailed(ApplicationError):
    status = 401
    code = "unauthenticated"


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class RateLimited(ApplicationError):
    status = 429
    code = "RATE_LIMITED"
    retry = True

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            message or f"Too many requests. Please wait {self.retry_after} seconds.",
            extra={"retryAfter": self.retry_after},
        )


class CreditExhausted(ApplicationError):
    status = 402
    code = "credit_exhausted"


class NoProvider(ApplicationError):
    status = 503
    code = "no_provider"


class ServiceUnavailable(ApplicationError):
    """Blueprint's own storage is unreachable for a moment (e.g. the database restarting)."""

    status = 503
    code = "service_unavailable"
    retry = True

    def __init__(self, message: str = "The service is briefly unavailable; retry in a few seconds.") -> None:
        super().__init__(message, extra={"retryAfter": 2})


class ModelUnavailable(ApplicationError):
    status = 503
    code = "model_unavailable"
    retry = True


class InvalidModel(ApplicationError):
    status = 400
    code = "INVALID_MODEL"

    def __init__(self, model: str, available: list[str]) -> None:
        super().__init__(
            f"Model '{model}' is not available",
            extra={"availableModels": available},
        )
