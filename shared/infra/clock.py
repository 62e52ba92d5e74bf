"""The time the API's decisions are made at: one function, replaceable where the decision is
about the calendar (calling rules on 17 May at 08:59 are tested at that time, not slept to)."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
