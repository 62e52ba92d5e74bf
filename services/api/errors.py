"""Domain errors carry their HTTP status and code; one handler renders them as problem details
(services/api/problems.py): {"type", "title", "status", "detail", "code", ...extra}."""

from typing import Any

from asyncpg.exceptions import DataError as AsyncpgDataError
from asyncpg.exceptions import (
    OperatorInterventionError,
    PostgresConnectionError,
    TooManyConnectionsError,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis.exceptions import ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.exc import InterfaceError as SqlInterfaceError
from sqlalchemy.exc import OperationalError as SqlOperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.allow import allowed_methods
from services.api.problems import Problem, ProblemResponse, problem, problem_response
from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "DomainError",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
]


# The API's names for the domain's errors: one base (shared/errors.py), rendered here once.
ApiError = DomainError


INVALID_INPUT = "Invalid input"

# Documented on every /v1 operation, so that clients (and the schema fuzzer) know the shape of
# the answers any handler may give besides its success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": description}
    for code, description in {
        400: "Bad request",
        401: "Missing or unknown token",
        403: "Not permitted",
        404: "Not found (also another tenant's ids)",
        409: "Conflict with the current state",
        413: "Request body too large",
        422: INVALID_INPUT,
        429: "Rate limited: retry after the Retry-After header's seconds",
        503: "The queue store or the database is unavailable: retry",
    }.items()
}


def refuses(reason: str) -> dict[int | str, dict[str, Any]]:
    """An operation's 422 answer, saying what it refuses beyond what its schema says: a rule
    across fields or against stored data (a flow's states, the tenant's custom fields). The
    fuzz run (tests/api/test_fuzz.py) accepts a 422 to a schema-valid request only from an
    operation that says this."""
    return {422: {"model": Problem, "description": f"{INVALID_INPUT}, or {reason}"}}


# The message of a 503 while Redis is unreachable (restarting, failing over).
QUEUE_STORE_UNAVAILABLE = "queue store unavailable, retry"


# The message of a 503 while PostgreSQL is unreachable (restarting, failing over, overloaded).
DATABASE_UNAVAILABLE = "database unavailable, retry"


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says PostgreSQL could not be reached or ended the connection: refused,
    reset or timed out while connecting (asyncpg raises the OS's errors as they are, through
    SQLAlchemy too), refused for want of connection slots, a connection the server closed or
    is shutting down, or one SQLAlchemy found dead. Not a bug of ours: the same request
    succeeds once the server is back."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, SqlOperationalError | SqlInterfaceError
        )
    return isinstance(
        exc,
        ConnectionError
        | TimeoutError
        | PostgresConnectionError
        | OperatorInterventionError
        | TooManyConnectionsError,
    )


# What the API answers for each kind of error it expects: status, problem body, extra headers.
Answer = tuple[int, dict[str, Any], dict[str, str] | None]


def error_answer(exc: BaseException) -> Answer | None:
    """The answer for an error the API expects; None for anything else (a bug: a 500).

    One definition for FastAPI's exception handlers and the hot paths (services/api/work/hot.py).
    """
    if isinstance(exc, DomainError):
        body = problem(exc.status_code, exc.code, exc.message, **exc.extra)
        return exc.status_code, body, _headers(exc)
    # A shard without a master (failing over: CLUSTERDOWN, MASTERDOWN) or a slot moving
    # (TRYAGAIN) is the same outage, for a few seconds.
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | ClusterDownError | TryAgainError):
        # Redis away is an outage to wait out, not a bug: agents retry after a moment and the
        # worker rebuilds the queues once it is back (services/worker/recovery.py).
        return (
            503,
            problem(503, "queue_store_unavailable", QUEUE_STORE_UNAVAILABLE),
            {"Retry-After": "1"},
        )
    if database_unreachable(exc):
        # Nothing was written: a write's transaction never committed, or its answer is what
        # was lost and the retry is refused by its version (409) or answered from its
        # idempotency key. Agents retry; the pools reconnect by themselves.
        return (
            503,
            problem(503, "database_unavailable", DATABASE_UNAVAILABLE),
            {"Retry-After": "1"},
        )
    if isinstance(exc, DataError | AsyncpgDataError):
        # A value the schemas let through but a column cannot hold (a number past its range):
        # the statement failed, so its transaction is rolled back and nothing changed. Bounded
        # fields (services/api/fields.py) answer this earlier and more precisely.
        message = "a value does not fit what it is stored or compared as"
        return 422, problem(422, "invalid", message), None
    return None


def _headers(exc: DomainError) -> dict[str, str] | None:
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after_s)}
    if exc.status_code == 401:
        return {"WWW-Authenticate": "Bearer"}
    return None


def error_response(exc: BaseException) -> ProblemResponse | None:
    answer = error_answer(exc)
    if answer is None:
        return None
    status, body, headers = answer
    return ProblemResponse(body, status, headers=headers)


# Codes for the answers the framework gives itself (unknown path, wrong method, ...).
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _not_utf8() -> ProblemResponse:
    error = {"loc": ["body"], "msg": "the body is not UTF-8 text", "type": "json_invalid"}
    return problem_response(422, Unprocessable.default_code, "invalid request", errors=[error])


def install_error_handlers(app: FastAPI) -> None:
    # Read at the first 405, when every rewrite of the schema is in place.
    methods_of = allowed_methods(lambda: app.openapi())

    async def _render(_request: Request, exc: Exception) -> ProblemResponse:
        response = error_response(exc)
        if response is None:
            raise exc
        return response

    async def _framework(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code < 400:
            return Response(status_code=exc.status_code, headers=exc.headers)
        if isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers 400 to a JSON body that is not UTF-8 text (RFC 8259 8.1); it is
            # invalid input like any malformed JSON, which FastAPI answers 422.
            return _not_utf8()
        headers = exc.headers
        if exc.status_code == 405 and (methods := methods_of(request.scope["path"])):
            # Every method of the path, not only those of the route that matched first.
            headers = {**(headers or {}), "Allow": ", ".join(methods)}
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, exc.detail, headers=headers)

    async def _invalid(_request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem_response(422, Unprocessable.default_code, "invalid request", errors=errors)

    app.add_exception_handler(StarletteHTTPException, _framework)
    app.add_exception_handler(RequestValidationError, _invalid)
    for kind in (
        DomainError,
        RedisConnectionError,
        RedisTimeoutError,
        DataError,
        AsyncpgDataError,
    ):
        app.add_exception_handler(kind, _render)
