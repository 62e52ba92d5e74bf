"""Field types shared by the admin schemas: bounded ids and database-safe text.

Every value a client sends must fit the column it lands in, so a malformed request answers
422 and never reaches the database as an error (a NUL byte, a lone surrogate, an id past
BIGINT).
"""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import available_timezones

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    PlainSerializer,
    Strict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from services.api.errors import Unprocessable
from shared.infra.storable import MAX_ID, NO_NUL_PATTERN, storable_text
from shared.infra.timeutil import as_utc

__all__ = ["MAX_ID", "DbId", "Flag", "IdPath", "Moment", "Name", "Text", "TimeZone"]


# Text that PostgreSQL can store; add Field(min_length=..., max_length=...) where used.
# Constraints before the check: pydantic leaves those after it out of the schema.
Text = Annotated[str, Field(pattern=NO_NUL_PATTERN), AfterValidator(storable_text)]

Name = Annotated[Text, Field(min_length=1, max_length=200)]

# A true or false in a body: only JSON's true and false, as the schema says (pydantic would
# also take 0, 1.0 or "yes").
Flag = Annotated[bool, Strict()]

# The IANA time zones this system knows, by their Area/Location names, and UTC: the schema
# lists them (one `TimeZone` component), so that a client knows which names are accepted and
# a fuzzer sends none that is refused. The legacy aliases (GMT0, GMT+0, GMT-0, Etc/GMT+1,
# EST5EDT...) are left out: their names differ only by punctuation, so a client generated
# from the schema cannot name them apart, and a contact centre names its zones by place.
TIME_ZONES = [
    *sorted(
        zone
        for zone in available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
    ),
    "UTC",
]
_Zone = StrEnum("TimeZone", [(zone, zone) for zone in TIME_ZONES])  # type: ignore[misc]


def _zone_name(value: Any, handler: ValidatorFunctionWrapHandler) -> str:
    """A plain str once validated (the enum only makes the schema name every zone), and a
    short error: the enum's own would list all 600 names."""
    try:
        zone: StrEnum = handler(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not a known IANA time zone") from None
    return zone.value


if TYPE_CHECKING:
    TimeZone = str
else:
    # Serialised as the str it is (the enum is the schema's, not the value's).
    TimeZone = Annotated[_Zone, WrapValidator(_zone_name), PlainSerializer(str)]

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


def _in_utc(moment: datetime) -> datetime:
    """The instant in UTC; one that falls outside the years a timestamp holds is refused."""
    try:
        return as_utc(moment)
    except OverflowError:
        raise ValueError("the time is out of range") from None


# An aware time a column can store: 0001-01-01T00:00+01:00 is the year 0 in UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]
