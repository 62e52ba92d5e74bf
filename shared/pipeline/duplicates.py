"""One person, one profile (rule 4): a new profile with the e-mail address or a phone number of
an existing one is a likely duplicate, refused with a pointer to that profile."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    """What duplicate detection compares; id 0 for a profile not yet stored."""

    id: int
    name: str
    email: str | None
    phones: Sequence[str]


@dataclass(frozen=True, slots=True)
class Duplicate:
    existing: Profile
    matched_by: str  # "email" or "phone"


def matched_by(new: Profile, existing: Profile) -> str | None:
    """ "email" or "phone" when the two look like one person; None otherwise."""
    if new.email and existing.email and new.email.casefold() == existing.email.casefold():
        return "email"
    if set(new.phones) & set(existing.phones):
        return "phone"
    return None


def likely_duplicate(new: Profile, candidates: Iterable[Profile]) -> Duplicate | None:
    """The oldest candidate (lowest id) that looks like the same person, if any."""
    for existing in sorted(candidates, key=lambda p: p.id):
        reason = matched_by(new, existing)
        if reason is not None:
            return Duplicate(existing, reason)
    return None
