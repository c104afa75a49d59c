"""The one error tree of Steward.

Every error a user can see is a :class:`StewardError`.  Each class carries the HTTP
status the server answers with, the exit code the CLI ends with and a stable machine
code; nothing chooses a status at the raise site.  The server and CLI look the class
up along the exception's MRO, so a subclass inherits its parent's mapping::

    StewardError                      500  exit 1   INTERNAL_ERROR
    ├── InvalidInputError             422  exit 2   INVALID_INPUT
    │   └── FilterSyntaxError         400  exit 2   INVALID_FILTER
    ├── NotFoundError                 404  exit 3   NOT_FOUND
    ├── PermissionDeniedError         403  exit 4   PERMISSION_DENIED
    │   ├── AuthenticationError       401  exit 4   UNAUTHENTICATED
    │   └── RateLimitedError          429  exit 4   RATE_LIMITED
    ├── ConflictError                 409  exit 5   CONFLICT
    │   └── AlreadyExistsError        409  exit 5   ALREADY_EXISTS
    ├── StorageError                  503  exit 6   STORAGE_UNAVAILABLE
    │   └── IntegrityError            500  exit 6   INTEGRITY_ERROR
    └── CheckFailedError              200  exit 1   CHECK_FAILED

Messages reach clients: they never contain secrets, SQL or request bodies.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "AuthenticationError",
    "CheckFailedError",
    "ConflictError",
    "FilterSyntaxError",
    "IntegrityError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "StewardError",
    "StorageError",
]


class StewardError(Exception):
    """Base of every error Steward raises on purpose.

    Args:
        message: One readable sentence, safe to show to any client.
        field: The input field the error is about, when there is one.
    """

    status: int = 500
    exit_code: int = 1
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, object]:
        """The one JSON error shape: ``{"error": {"code", "message", "field"}}``."""
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return {"error": body}


class InvalidInputError(StewardError):
    """The request or argument is malformed (a value of the wrong type, a name too long)."""

    status = 422
    exit_code = 2
    code = "INVALID_INPUT"


class FilterSyntaxError(InvalidInputError):
    """A search filter could not be parsed; ``position`` is the 0-based offset of the fault."""

    status = 400
    code = "INVALID_FILTER"

    def __init__(self, message: str, *, position: int, field: str | None = "filter") -> None:
        super().__init__(f"{message} at position {position}", field=field)
        self.position = position


class NotFoundError(StewardError):
    """The named resource does not exist."""

    status = 404
    exit_code = 3
    code = "NOT_FOUND"


class PermissionDeniedError(StewardError):
    """The caller is known but may not do this."""

    status = 403
    exit_code = 4
    code = "PERMISSION_DENIED"


class AuthenticationError(PermissionDeniedError):
    """The caller could not be identified (missing, wrong, expired or revoked token)."""

    status = 401
    code = "UNAUTHENTICATED"


class RateLimitedError(PermissionDeniedError):
    """Too many failed attempts from this client address; retry after ``retry_after`` seconds."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int = 60, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class ConflictError(StewardError):
    """The operation conflicts with the resource's state (e.g. logging to a finished run)."""

    status = 409
    exit_code = 5
    code = "CONFLICT"


class AlreadyExistsError(ConflictError):
    """A resource with that name or key already exists."""

    code = "ALREADY_EXISTS"


class StorageError(StewardError):
    """The metadata or artifact store cannot be reached or refused the operation."""

    status = 503
    exit_code = 6
    code = "STORAGE_UNAVAILABLE"


class IntegrityError(StorageError):
    """Stored content does not match its recorded hash."""

    status = 500
    code = "INTEGRITY_ERROR"


class CheckFailedError(StewardError):
    """A check ran and failed (validation, gate, audit verification)."""

    status = 200
    exit_code = 1
    code = "CHECK_FAILED"
