"""Domain errors carry their HTTP status; one handler renders them all as {"detail": ...}."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    """Also the answer for another tenant's ids (rule 1)."""

    status_code = 404


class Conflict(ApiError):
    status_code = 409


class Unprocessable(ApiError):
    status_code = 422


class PayloadTooLarge(ApiError):
    status_code = 413


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: a message, sometimes with details (`errors` for invalid input)."""

    model_config = ConfigDict(extra="allow")

    detail: str


# Documented on every /v1 operation, so that clients (and the schema fuzzer) know the shape of
# the answers any handler may give besides its success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": description}
    for code, description in {
        400: "Bad request",
        401: "Missing or unknown token",
        403: "Not permitted",
        404: "Not found (also another tenant's ids)",
        409: "Conflict with the current state",
        413: "Request body too large",
        422: "Invalid input",
        503: "The queue store is unavailable: retry",
    }.items()
}

# The message of a 503 while Redis is unreachable (restarting, failing over).
QUEUE_STORE_UNAVAILABLE = "queue store unavailable, retry"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _render(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            {"detail": exc.message, **exc.extra}, status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def _queue_store_down(_request: Request, _exc: Exception) -> JSONResponse:
        # Redis away is an outage to wait out, not a bug: agents retry after a moment and the
        # worker rebuilds the queues once it is back (services/worker/recovery.py).
        return JSONResponse(
            {"detail": QUEUE_STORE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "1"}
        )

    @app.exception_handler(DataError)
    async def _does_not_fit(_request: Request, _exc: DataError) -> JSONResponse:
        # A value the schemas let through but a column cannot hold (a number past its range):
        # the statement failed, so its transaction is rolled back and nothing changed. Bounded
        # fields (services/api/fields.py) answer this earlier and more precisely.
        return JSONResponse(
            {"detail": "a value does not fit what it is stored or compared as"}, status_code=422
        )
