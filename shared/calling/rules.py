"""Calling rules as data: a weekly schedule, public holidays and the tenant's closed days.

An assignment's contact hours (one daily window) are the simplest schedule: `effective_rules`
turns them into the same `CallingRules`, so one evaluation serves both (decision 029).
"""

import itertools
from collections.abc import Iterable
from datetime import date, time
from typing import Annotated, Literal, Protocol, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from shared.infra.storable import NO_NUL_PATTERN, storable_text

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PresetName = Literal["NO", "FR"]
# "24:00" ends a window at midnight; a window never crosses it (two windows do).
ClockTime = Annotated[
    str,
    Field(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", description="HH:MM, 24-hour"),
]
MIDNIGHT = "24:00"


def clock_time(text: str) -> time:
    """'09:30' as a time; '24:00' as the last representable moment of the day."""
    return time.max if text == MIDNIGHT else time.fromisoformat(text)


class Window(BaseModel):
    """Calls allowed from `start` (included) to `end` (excluded), local time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.start == MIDNIGHT or clock_time(self.start) >= clock_time(self.end):
            raise ValueError("a window starts before it ends, within one day")
        return self


DayWindows = Annotated[list[Window], Field(max_length=8)]


class CallingRules(BaseModel):
    """When customers may be called, evaluated in each customer's time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: PresetName | None = Field(
        default=None,
        description="NO or FR: fills `weekly`, `public_holidays` and `source` when they are "
        "not given.",
    )
    weekly: dict[Weekday, DayWindows] = Field(
        default_factory=dict, description="Windows per weekday; a day not listed is closed."
    )
    public_holidays: StrictBool = Field(
        default=True, description="Closed on the public holidays of the customer's country."
    )
    tenant_closed_days: StrictBool = Field(
        default=True, description="Closed on the tenant's own closed days."
    )
    source: Annotated[
        str, Field(max_length=500, pattern=NO_NUL_PATTERN), AfterValidator(storable_text)
    ] = Field(default="", description="The rule's legal source.")

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("preset") in PRESETS and not data.get("weekly"):
            return PRESETS[data["preset"]] | {k: v for k, v in data.items() if k != "weekly"}
        return data

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        for day, windows in self.weekly.items():
            spans = sorted((clock_time(w.start), clock_time(w.end)) for w in windows)
            for (_, end), (start, _) in itertools.pairwise(spans):
                if start < end:
                    raise ValueError(f"windows of {day} overlap")
        return self

    def windows(self, weekday: int) -> list[Window]:
        """The windows of a weekday (0 = Monday, as date.weekday())."""
        return self.weekly.get(WEEKDAYS[weekday], [])


def _every(days: tuple[Weekday, ...], *spans: tuple[str, str]) -> dict[str, list[dict[str, str]]]:
    return {day: [{"start": s, "end": e} for s, e in spans] for day in days}


WORKDAYS: tuple[Weekday, ...] = WEEKDAYS[:5]
# Presets as the request body would give them; the sources are quoted in decision 029.
PRESETS: dict[str, dict[str, object]] = {
    "NO": {
        "preset": "NO",
        "weekly": _every(WORKDAYS, ("09:00", "21:00")),
        "public_holidays": True,
        "source": "Markedsføringsloven § 14: not on Saturdays, Sundays, public holidays or days "
        "the law treats as holidays, nor before 09:00 or after 21:00 on working days.",
    },
    "FR": {
        "preset": "FR",
        "weekly": _every(WORKDAYS, ("10:00", "13:00"), ("14:00", "20:00")),
        "public_holidays": True,
        "source": "Code de la consommation art. D. 223-9 (décret n° 2022-1313 of 13 October "
        "2022, in force 1 March 2023): Monday to Friday 10:00-13:00 and 14:00-20:00 in the "
        "consumer's time zone, not on public holidays (code du travail art. L. 3133-1).",
    },
}


def preset(name: PresetName) -> CallingRules:
    return CallingRules.model_validate({"preset": name})


def from_contact_hours(start: str, end: str) -> CallingRules:
    """An assignment's daily contact hours as calling rules: the same window every day, no
    holidays (what contact hours always meant); a window across midnight is two windows."""
    spans = [(start, end)] if start < end else [("00:00", end), (start, MIDNIGHT)]
    spans = [(s, e) for s, e in spans if s != e]
    return CallingRules(
        weekly={day: [Window(start=s, end=e) for s, e in spans] for day in WEEKDAYS},
        public_holidays=False,
        tenant_closed_days=False,
    )


class HasCallingRules(Protocol):
    """What the rules are read from: an Assignment."""

    @property
    def calling_rules(self) -> dict[str, object] | None: ...
    @property
    def contact_hours_start(self) -> str | None: ...
    @property
    def contact_hours_end(self) -> str | None: ...


def effective_rules(assignment: HasCallingRules) -> CallingRules | None:
    """The assignment's calling rules; its contact hours when it has only those; None: any time."""
    if assignment.calling_rules:
        return CallingRules.model_validate(assignment.calling_rules)
    if assignment.contact_hours_start and assignment.contact_hours_end:
        return from_contact_hours(assignment.contact_hours_start, assignment.contact_hours_end)
    return None


def closed_days(stored: Iterable[object]) -> set[date]:
    """A tenant's closed days as stored (ISO dates)."""
    return {date.fromisoformat(str(day)) for day in stored}
