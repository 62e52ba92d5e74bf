"""What a dialer's result does to a membership (rule 36).

A call nobody (or a machine) answered, a busy line, a failed call or an invalid number is a
system attempt: attempts + 1 and the assignment's retry rules (cooldown, attempt limit) place
the customer as after an agent's "no answer", but the event is a dial result with no user, so
agents' attempts are counted apart. An abandoned call (answered, no agent free) is not the
customer's attempt: it becomes a call-back due now, served before free customers (rule 10).
"""

from dataclasses import dataclass, replace
from datetime import datetime

from shared.errors import Conflict
from shared.flows import FlowSpec, StateKind
from shared.membership import attempts
from shared.membership.attempts import AttemptKind
from shared.membership.events import Change, EventDraft
from shared.membership.record import MembershipRecord
from shared.models import CORRECTION_STATE, DialResult, EventKind, FollowUpKind

SYSTEM_ATTEMPTS = frozenset(
    {
        DialResult.no_answer,
        DialResult.busy,
        DialResult.machine,
        DialResult.failed,
        DialResult.invalid_number,
    }
)


@dataclass(frozen=True, slots=True)
class _NoAnswer:
    """An attempt as the rule of attempts reads it (attempts.AttemptAsk)."""

    kind: AttemptKind = AttemptKind.no_answer
    at: datetime | None = None
    owner_id: int | None = None
    comment: str = ""


def system_attempt(
    record: MembershipRecord,
    flow: FlowSpec,
    result: DialResult,
    *,
    now: datetime,
    cooldown_seconds: int,
    data: dict[str, object],
) -> Change:
    """Attempts + 1, placed by the retry rules; the event is the dial's result."""
    change = attempts.register_attempt(
        record, flow, _NoAnswer(), user_id=0, now=now, cooldown_seconds=cooldown_seconds
    )
    event = replace(
        change.event,
        kind=EventKind.dial_result,
        code=result.value,
        data=change.event.data | data | {"system_attempt": True},
    )
    return Change(change.record, event)


def abandoned(
    record: MembershipRecord, flow: FlowSpec, *, now: datetime, data: dict[str, object]
) -> Change:
    """Due for a call-back now: a shared follow-up on a free customer, the owner's personal
    one kept (and made due) on a customer in work."""
    if record.state == CORRECTION_STATE or flow.kind_of(record.state) == StateKind.final:
        raise Conflict(f"customer is in the state '{record.state}': nothing to call back")
    personal = record.followup_kind == FollowUpKind.personal
    changed = replace(
        record,
        followup_at=now,
        followup_kind=record.followup_kind if personal else FollowUpKind.shared.value,
        followup_owner_id=record.followup_owner_id if personal else None,
        version=record.version + 1,
    )
    event = EventDraft(
        kind=EventKind.dial_result,
        code=DialResult.abandoned.value,
        from_state=record.state,
        to_state=record.state,
        data=data | {"followup_at": now.isoformat(), "followup_kind": changed.followup_kind},
    )
    return Change(changed, event)


def answered(record: MembershipRecord, *, data: dict[str, object]) -> EventDraft:
    """A bridged call changes nothing of the membership: the agent registers what came of it."""
    return EventDraft(
        kind=EventKind.dial_result,
        code=DialResult.answered.value,
        from_state=record.state,
        to_state=record.state,
        data=data,
    )
