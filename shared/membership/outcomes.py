"""Outcomes (rules 7, 21, 26, 28): the agent's, a resolved or self-made correction's, a bulk
outcome's. One function sets the state and the follow-up for all of them."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from shared.errors import Unprocessable
from shared.flows import FlowOutcome, FlowSpec, FollowUpRule
from shared.infra.timeutil import as_utc
from shared.membership.events import Change, EventDraft
from shared.membership.followups import followup_handled
from shared.membership.record import MembershipRecord
from shared.models import EventKind, FollowUpKind


class ChosenOutcome(Protocol):
    """An outcome someone registers: its code, follow-up and comment."""

    @property
    def code(self) -> str: ...
    @property
    def follow_up_at(self) -> datetime | None: ...
    @property
    def follow_up_owner_id(self) -> int | None: ...
    @property
    def comment(self) -> str: ...


class OutcomeAsk(ChosenOutcome, Protocol):
    """What an agent registers (services/api/work/schemas.py OutcomeRequest)."""

    @property
    def fields(self) -> dict[str, Any]: ...


def apply_outcome(
    record: MembershipRecord,
    outcome: FlowOutcome,
    *,
    user_id: int | None,
    now: datetime,
    follow_up_at: datetime | None = None,
    follow_up_owner_id: int | None = None,
    set_by: str = "user",
) -> tuple[MembershipRecord, dict[str, Any]]:
    """The membership in the outcome's state with its follow-up set or cleared, and the
    follow-up part of the event's data (empty when the customer has no follow-up now).

    The caller has checked that the outcome is allowed.
    """
    kind: str | None = None
    owner: int | None = None
    at: datetime | None = None
    if outcome.follow_up == FollowUpRule.personal:
        kind, at, owner = FollowUpKind.personal.value, follow_up_at, follow_up_owner_id or user_id
    elif outcome.follow_up == FollowUpRule.shared and follow_up_at is not None:
        kind, at = FollowUpKind.shared.value, follow_up_at
    changed = replace(
        record,
        state=outcome.to_state,
        state_set_by=set_by,
        state_set_by_user_id=user_id,
        state_set_at=now,
        followup_at=at,
        followup_kind=kind,
        followup_owner_id=owner,
        version=record.version + 1,
    )
    if not kind:
        return changed, {}
    return changed, {
        "followup_kind": kind,
        "followup_at": follow_up_at.isoformat() if follow_up_at else None,
        "followup_owner_id": owner,
    }


def allowed_outcome(flow: FlowSpec, code: str, state: str) -> FlowOutcome:
    """The flow's outcome `code` from `state`; 422 when unknown or not allowed from there."""
    outcome = flow.outcome(code, state)
    if outcome is None:
        if not flow.has_outcome(code):
            raise Unprocessable(f"unknown outcome '{code}'")
        raise Unprocessable(f"outcome '{code}' is not allowed from state '{state}'")
    return outcome


def require_time(outcome: FlowOutcome, follow_up_at: datetime | None) -> None:
    if outcome.follow_up_time_required and follow_up_at is None:
        raise Unprocessable(f"outcome '{outcome.code}' needs a follow-up time")


def register_outcome(
    record: MembershipRecord, flow: FlowSpec, ask: OutcomeAsk, *, user_id: int, now: datetime
) -> Change:
    """The holder's outcome: one the flow allows from the current state (rules 7, 21)."""
    outcome = allowed_outcome(flow, ask.code, record.state)
    require_time(outcome, ask.follow_up_at)
    at = as_utc(ask.follow_up_at) if ask.follow_up_at else None
    changed, followup = apply_outcome(
        record,
        outcome,
        user_id=user_id,
        now=now,
        follow_up_at=at,
        follow_up_owner_id=ask.follow_up_owner_id,
    )
    data: dict[str, Any] = {"fields": ask.fields} if ask.fields else {}
    data |= followup
    handled = followup_handled(record, now)
    if handled is not None:
        data["followup_handled"] = handled
    return Change(
        changed,
        EventDraft(
            kind=EventKind.outcome,
            code=ask.code,
            from_state=record.state,
            to_state=outcome.to_state,
            comment=ask.comment,
            data=data,
        ),
    )


def bulk_outcome(
    record: MembershipRecord,
    flow: FlowSpec,
    code: str,
    *,
    user_id: int,
    now: datetime,
    follow_up_at: datetime | None,
    comment: str,
    event_data: Mapping[str, Any],
    set_by: str,
) -> Change:
    """One customer of a bulk outcome (rule 28): refused when its state does not allow it
    (the selection was checked, but the customer may have changed since)."""
    outcome = flow.outcome(code, record.state)
    if outcome is None:
        raise Unprocessable(
            f"customer {record.customer_id} is in state '{record.state}' now, which does not "
            f"allow '{code}'; nothing was written",
            states=[record.state],
        )
    changed, followup = apply_outcome(
        record, outcome, user_id=user_id, now=now, follow_up_at=follow_up_at, set_by=set_by
    )
    return Change(
        changed,
        EventDraft(
            kind=EventKind.outcome,
            code=code,
            from_state=record.state,
            to_state=outcome.to_state,
            comment=comment,
            data=dict(event_data) | followup,
        ),
    )
