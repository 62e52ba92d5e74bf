"""One base for every error the domain expects: an HTTP status and a stable machine code.

Raised anywhere below the API (domain rules, jobs, services) and rendered once at the API's
edge (services/api/errors.py). The worker reads the same `message` and `code` when it ends a
job failed. A subclass fixes the status and a default code; a raise may name a sharper code
(`Conflict("...", code="lease_lost")`) so clients can tell cases of one status apart.
"""

from typing import Any, ClassVar


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra


class BadRequest(DomainError):
    status_code = 400
    default_code = "bad_request"


class Unauthorized(DomainError):
    status_code = 401
    default_code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    default_code = "forbidden"


class NotFound(DomainError):
    """Also the answer for another tenant's ids (rule 1)."""

    status_code = 404
    default_code = "not_found"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = "payload_too_large"


class Unprocessable(DomainError):
    status_code = 422
    default_code = "invalid"


class TooManyRequests(DomainError):
    """A rate limit was passed; `retry_after_s` says when to try again (the Retry-After)."""

    status_code = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s
