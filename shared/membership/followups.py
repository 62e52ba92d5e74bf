"""Follow-ups: whether one was kept (rule 29: reports count follow-ups kept and passed),
changing one's time or owner from the customer details (rule 23), and the fall-back of a
passed personal one to shared (rule 22)."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.infra.timeutil import as_utc, iso_or_none
from shared.membership.events import Change, EventDraft
from shared.membership.record import MembershipRecord
from shared.models import EventKind, FollowUpKind

# A follow-up handled no later than this after its time was kept; later, it was passed. An
# attempt or outcome this long before the time already counts as handling it.
FOLLOWUP_GRACE = timedelta(minutes=15)


def followup_handled(record: MembershipRecord, now: datetime) -> dict[str, Any] | None:
    """What an attempt or outcome registered `now` records about the follow-up it handles:
    None when the customer has no follow-up due (within the grace) now."""
    if record.followup_at is None or record.followup_kind is None:
        return None
    due = as_utc(record.followup_at)
    if due - FOLLOWUP_GRACE > now:
        return None
    return {
        "due_at": due.isoformat(),
        "kind": record.followup_kind,
        "owner_id": record.followup_owner_id,
        "kept": now <= due + FOLLOWUP_GRACE,
    }


def require_change(at: datetime | None, owner_id: int | None) -> None:
    """A change names a new time, a new owner, or both."""
    if at is None and owner_id is None:
        raise Unprocessable("give a new time ('at'), a new owner ('owner_id'), or both")


def change_follow_up(
    record: MembershipRecord,
    *,
    at: datetime | None,
    owner_id: int | None,
    user_id: int,
    may_change_others: bool,
) -> Change:
    """The follow-up at its new time or with its new owner (the caller checks that the new
    owner is an active user of the tenant). Another user's personal follow-up needs
    extended handling (`may_change_others`); a shared one has no owner to change."""
    if record.followup_kind is None:
        raise Conflict("the customer has no follow-up to change")
    personal = record.followup_kind == FollowUpKind.personal
    if personal and record.followup_owner_id != user_id and not may_change_others:
        raise Forbidden("another user's follow-up needs the 'extended_handling' permission")
    if owner_id is not None and not personal:
        raise Conflict("a shared follow-up has no owner to change")
    changed = replace(
        record,
        followup_owner_id=owner_id if owner_id is not None else record.followup_owner_id,
        followup_at=as_utc(at) if at is not None else record.followup_at,
        version=record.version + 1,
    )
    return Change(
        changed,
        EventDraft(
            kind=EventKind.followup_changed,
            from_state=record.state,
            to_state=record.state,
            data={
                "before": _followup(record),
                "after": _followup(changed),
            },
        ),
    )


def _followup(record: MembershipRecord) -> dict[str, object]:
    return {
        "followup_at": iso_or_none(record.followup_at),
        "followup_owner_id": record.followup_owner_id,
    }


def fall_back(record: MembershipRecord, *, after_minutes: int) -> Change:
    """A personal follow-up passed by more than the assignment's limit becomes shared, so a
    colleague calls the customer instead of nobody (rule 22)."""
    return Change(
        replace(
            record,
            followup_kind=FollowUpKind.shared.value,
            followup_owner_id=None,
            version=record.version + 1,
        ),
        EventDraft(
            kind=EventKind.followup_fell_back,
            from_state=record.state,
            to_state=record.state,
            data={
                "followup_at": record.followup_at.isoformat() if record.followup_at else None,
                "former_owner_id": record.followup_owner_id,
                "after_minutes": after_minutes,
            },
        ),
    )
