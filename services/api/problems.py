"""Every error answer of the API as RFC 9457 problem details (decision 024).

`problem_response` is the one function that renders an error: the domain's errors, the
framework's own answers (unknown path, wrong method), invalid input, the body-size limit and
the rate limits all go through it. `document_problems` makes the OpenAPI schema say so: every
4xx/5xx answer of every operation is `application/problem+json` with the `Problem` model.
"""

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
# An identifier, not a page to fetch (RFC 9457 3.1.1): docs/errors.md lists every code.
PROBLEM_TYPE_BASE = "https://nextcall.dev/problems/"

# Titles that the code's words alone would spell badly.
_TITLES = {
    "csrf": "Invalid form token",
    "invalid": "Invalid input",
}


class FieldError(BaseModel):
    """One invalid field: where it is (`loc`, from the top of the body, query or path), what is
    wrong (`msg`) and the machine kind of the mistake (`type`)."""

    loc: list[str | int]
    msg: str
    type: str


class CustomerFieldError(BaseModel):
    """One refused field of a customer's edit or creation: its name and why, in words."""

    field: str
    reason: str


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details). `code` is the stable machine code (see
    docs/errors.md); `type` is the same code as a URI. Some problems carry more members:
    `errors` for invalid input, `holder` for a customer someone else holds, `retry_after_s`
    with a 429."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_TYPE_BASE + "lease_lost",
                    "title": "Lease lost",
                    "status": 409,
                    "detail": "you do not hold this customer",
                    "code": "lease_lost",
                }
            ]
        },
    )

    type: str = Field(description="The problem type: a URI that names `code`.")
    title: str = Field(description="A short summary of the problem type; same for every code.")
    status: int = Field(description="The HTTP status of the answer.")
    detail: str = Field(description="What went wrong this time, for a person to read.")
    code: str = Field(description="The stable machine code; clients branch on it.")
    errors: list[FieldError | CustomerFieldError] | None = Field(
        default=None,
        description="With `invalid` input: every field that was refused (`loc`, `msg`, `type`; "
        "a customer's edit names its fields with `field` and `reason`).",
    )


def problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body of an error answer."""
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title(code),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def title(code: str) -> str:
    return _TITLES.get(code) or code.replace("_", " ").capitalize()


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    return ProblemResponse(problem(status, code, detail, **extra), status, headers=headers)


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def document_problems(app: FastAPI) -> None:
    """Every error answer in the schema is problem+json: FastAPI files a response model under
    the route's media type (application/json), so the generated schema is rewritten once."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, answer in operation.get("responses", {}).items():
                    if _is_error(status):
                        answer["content"] = {PROBLEM_JSON: {"schema": dict(_PROBLEM_REF)}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _is_error(status: str) -> bool:
    return status in ("4XX", "5XX", "default") or (status.isdigit() and int(status) >= 400)
