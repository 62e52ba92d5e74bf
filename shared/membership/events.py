"""What a rule returns: the membership after it, and the event that records the change."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from shared.membership.record import MembershipRecord
from shared.models import Event


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event without its ids: the service adds tenant, customer, assignment and user."""

    kind: str
    to_state: str | None
    data: dict[str, Any]
    code: str | None = None
    from_state: str | None = None
    comment: str = ""


class Change(NamedTuple):
    """A rule's answer: the new membership (its version one up) and its event."""

    record: MembershipRecord
    event: EventDraft


def event_of(
    draft: EventDraft,
    record: MembershipRecord,
    *,
    user_id: int | None,
    created_at: datetime | None = None,
) -> Event:
    """The Event row of a draft, in the membership's (new) assignment."""
    return event_for(
        draft,
        tenant_id=record.tenant_id,
        customer_id=record.customer_id,
        assignment_id=record.assignment_id,
        user_id=user_id,
        created_at=created_at,
    )


def event_for(
    draft: EventDraft,
    *,
    tenant_id: int,
    customer_id: int,
    assignment_id: int | None,
    user_id: int | None,
    created_at: datetime | None = None,
) -> Event:
    """The Event row of a draft; `created_at` left to the database's clock when not given."""
    event = Event(
        tenant_id=tenant_id,
        customer_id=customer_id,
        assignment_id=assignment_id,
        user_id=user_id,
        kind=draft.kind,
        code=draft.code,
        from_state=draft.from_state,
        to_state=draft.to_state,
        comment=draft.comment,
        data=draft.data,
    )
    if created_at is not None:
        event.created_at = created_at
    return event
