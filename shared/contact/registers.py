"""When a do-not-call register is too old to call against (rule 34)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class RegisterState:
    """What the freshness rule reads of a register."""

    name: str
    extract_date: date | None
    max_age_days: int


def stale_reason(registers: Iterable[RegisterState], today: date) -> str | None:
    """Why no one may be dialled (a register without an extract, or one older than its
    policy allows), or None. The law asks for a check against a recent extract before any
    call, so one stale register stops the assignment's dialling, not only its numbers."""
    for register in registers:
        if register.extract_date is None:
            return f"register '{register.name}' has no extract yet: import one"
        age = (today - register.extract_date).days
        if age > register.max_age_days:
            return (
                f"register '{register.name}' is {age} days old (extract of "
                f"{register.extract_date.isoformat()}), more than the {register.max_age_days} "
                "days allowed: import a fresh extract"
            )
    return None
