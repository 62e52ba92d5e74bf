"""Whether a follow-up was kept (rule 29: reports count follow-ups kept and passed)."""

from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.timeutil import as_utc

# A follow-up handled no later than this after its time was kept; later, it was passed. An
# attempt or outcome this long before the time already counts as handling it.
FOLLOWUP_GRACE = timedelta(minutes=15)


class HasFollowUp(Protocol):
    @property
    def followup_at(self) -> datetime | None: ...
    @property
    def followup_kind(self) -> str | None: ...
    @property
    def followup_owner_id(self) -> int | None: ...


def followup_handled(membership: HasFollowUp, now: datetime) -> dict[str, Any] | None:
    """What an attempt or outcome registered `now` records about the follow-up it handles:
    None when the customer has no follow-up due (within the grace) now."""
    if membership.followup_at is None or membership.followup_kind is None:
        return None
    due = as_utc(membership.followup_at)
    if due - FOLLOWUP_GRACE > now:
        return None
    return {
        "due_at": due.isoformat(),
        "kind": membership.followup_kind,
        "owner_id": membership.followup_owner_id,
        "kept": now <= due + FOLLOWUP_GRACE,
    }
