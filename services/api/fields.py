"""Field types shared by the admin schemas: bounded ids and database-safe text.

Every value a client sends must fit the column it lands in, so a malformed request answers
422 and never reaches the database as an error (a NUL byte, a lone surrogate, an id past
BIGINT).
"""

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, ValidationError

from services.api.errors import Unprocessable
from shared.infra.storable import MAX_BIGINT, storable_text

MAX_ID = MAX_BIGINT


# Text that PostgreSQL can store; add Field(min_length=..., max_length=...) where used.
Text = Annotated[str, AfterValidator(storable_text)]
Name = Annotated[Text, Field(min_length=1, max_length=200)]

# A row id in a body or query.
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
# A row id in a path: out-of-range ids answer 422, never a database error.
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def unprocessable(message: str, exc: ValidationError) -> Unprocessable:
    """A pydantic error raised inside a service, as the API's 422 with the same error list."""
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]
    first = str(errors[0]["msg"]).removeprefix("Value error, ") if errors else "invalid"
    return Unprocessable(f"{message}: {first}", errors=errors)
