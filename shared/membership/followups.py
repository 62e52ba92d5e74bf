"""Changing a follow-up's time or owner from the customer details (rule 23)."""

from dataclasses import replace
from datetime import datetime

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.membership.events import Change, EventDraft
from shared.membership.record import MembershipRecord
from shared.models import EventKind, FollowUpKind
from shared.timeutil import as_utc, iso_or_none


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
