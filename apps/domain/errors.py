"""The one error the domain model raises: an invalid DSL document or update."""
from __future__ import annotations

from apps.core.errors import ApplicationError


class DomainValidationError(ApplicationError):
    """An update or document that does not describe a valid domain model.

    ``path`` names the offending part (``entities.Post.fields.status.values``) so a
    person or the model can fix exactly that; it is also in ``extra["path"]``.
    """

    status = 422
    code = "invalid_domain_model"

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        message = f"{path}: {problem}" if path else problem
        super().__init__(message, extra={"path": path})
