"""Attempts (rules 19-20): no answer, or call back later at a time."""

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.errors import Conflict, Unprocessable
from shared.flows import FlowSpec, StateKind
from shared.infra.timeutil import as_utc
from shared.membership.events import Change, EventDraft
from shared.membership.followups import followup_handled
from shared.membership.record import MembershipRecord
from shared.models import CORRECTION_STATE, EventKind, FollowUpKind

# A no-answer on a customer with a personal follow-up pushes the follow-up at least this far.
MIN_FOLLOWUP_RETRY = timedelta(minutes=15)


class AttemptKind(StrEnum):
    no_answer = "no_answer"
    call_back_later = "call_back_later"


class AttemptAsk(Protocol):
    """What an agent registers (services/api/work/schemas.py AttemptRequest)."""

    @property
    def kind(self) -> AttemptKind: ...
    @property
    def at(self) -> datetime | None: ...
    @property
    def owner_id(self) -> int | None: ...
    @property
    def comment(self) -> str: ...


def register_attempt(
    record: MembershipRecord,
    flow: FlowSpec,
    ask: AttemptAsk,
    *,
    user_id: int,
    now: datetime,
    cooldown_seconds: int,
) -> Change:
    """Attempts + 1; a call back later sets a shared follow-up on a free customer and a
    personal one (the agent's or a chosen colleague's) on a progressive one."""
    if record.state == CORRECTION_STATE:
        raise Conflict("customer is waiting for a correction: no attempts")
    kind = flow.kind_of(record.state)
    if kind == StateKind.final:
        raise Conflict(f"customer is in the final state '{record.state}': no attempts")
    data: dict[str, object] = {}
    followup_kind: str | None = None
    followup_at: datetime | None = None
    owner: int | None = None
    if ask.kind == AttemptKind.no_answer:
        if record.followup_kind == FollowUpKind.personal:
            # The personal follow-up stays with its owner, tried again after the cool-down.
            followup_kind, owner = record.followup_kind, record.followup_owner_id
            followup_at = now + max(timedelta(seconds=cooldown_seconds), MIN_FOLLOWUP_RETRY)
    else:
        if ask.at is None:
            raise Unprocessable("call_back_later needs a time ('at')")
        followup_at = as_utc(ask.at)
        if kind == StateKind.free:
            followup_kind = FollowUpKind.shared.value
        else:
            followup_kind, owner = FollowUpKind.personal.value, ask.owner_id or user_id
        data = {"followup_at": followup_at.isoformat(), "followup_kind": followup_kind}
        if owner is not None:
            data["followup_owner_id"] = owner
    handled = followup_handled(record, now)
    if handled is not None:
        data["followup_handled"] = handled
    changed = replace(
        record,
        attempts=record.attempts + 1,
        last_attempt_at=now,
        followup_at=followup_at,
        followup_kind=followup_kind,
        followup_owner_id=owner,
        version=record.version + 1,
    )
    return Change(
        changed,
        EventDraft(
            kind=EventKind.attempt,
            code=ask.kind.value,
            from_state=record.state,
            to_state=record.state,
            comment=ask.comment,
            data=data,
        ),
    )
