"""Corrections (rule 26): send to a colleague's "to correct" list, resolve it, or correct an
outcome yourself.

A customer sent to correction waits in the state "@correction", outside every flow, so the
queue parks it and /next never serves it. Its follow-up is dropped when it is sent (kept in
the event's data): a follow-up would make the queue serve it at its time, and the owner sets
the follow-up the chosen outcome asks for when resolving.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.flows import FlowOutcome, FlowSpec
from shared.infra.timeutil import as_utc, iso_or_none
from shared.membership.events import Change, EventDraft
from shared.membership.outcomes import ChosenOutcome, apply_outcome, require_time
from shared.membership.record import MembershipRecord
from shared.models import CORRECTION_STATE, EventKind

SET_BY = "correction"


def may_send(record: MembershipRecord, *, version: int | None) -> None:
    """Refuse a customer in correction already, or changed since the sender saw it."""
    if record.state == CORRECTION_STATE:
        raise Conflict("the customer is in correction already")
    if version is not None and version != record.version:
        raise Conflict(
            f"customer changed (version {record.version}, you have {version}); nothing was written"
        )


def allowed_codes(flow: FlowSpec, codes: list[str]) -> list[str]:
    """The codes the corrector may choose from, once each; 422 naming those the flow lacks."""
    allowed = list(dict.fromkeys(codes))
    unknown = [code for code in allowed if not flow.has_outcome(code)]
    if unknown:
        raise Unprocessable(
            f"outcome '{unknown[0]}' does not exist in this assignment's flow", unknown=unknown
        )
    return allowed


def send_to_correction(
    record: MembershipRecord,
    *,
    correction_id: int,
    owner_user_id: int,
    reason: str,
    allowed: list[str],
    user_id: int,
    now: datetime,
) -> Change:
    """Parked in "@correction" for `owner_user_id`, its follow-up dropped into the event."""
    data: dict[str, Any] = {
        "correction_id": correction_id,
        "owner_user_id": owner_user_id,
        "reason": reason,
        "allowed_outcomes": allowed,
        "previous_state": record.state,
    }
    if record.followup_kind:
        data["dropped_followup"] = {
            "followup_kind": record.followup_kind,
            "followup_at": iso_or_none(record.followup_at),
            "followup_owner_id": record.followup_owner_id,
        }
    changed = replace(
        record,
        state=CORRECTION_STATE,
        state_set_by=SET_BY,
        state_set_by_user_id=user_id,
        state_set_at=now,
        followup_at=None,
        followup_kind=None,
        followup_owner_id=None,
        version=record.version + 1,
    )
    return Change(
        changed,
        EventDraft(
            kind=EventKind.sent_to_correction,
            from_state=record.state,
            to_state=CORRECTION_STATE,
            data=data,
        ),
    )


def outcome_for(flow: FlowSpec, code: str, preferred_from: str) -> FlowOutcome | None:
    """The flow's outcome with this code: the one allowed from `preferred_from` if any.

    A code may be declared from several states with different targets; a correction is
    registered from outside the flow, so the state the customer stood in before decides.
    """
    return flow.outcome(code, preferred_from) or next(
        (o for o in flow.outcomes if o.code == code), None
    )


def apply_chosen(
    record: MembershipRecord,
    outcome: FlowOutcome,
    chosen: ChosenOutcome,
    *,
    user_id: int,
    now: datetime,
) -> tuple[MembershipRecord, dict[str, Any]]:
    """The corrector's outcome on the membership (the caller then checks the follow-up's
    owner and that nobody holds the customer); the follow-up part of the event's data."""
    require_time(outcome, chosen.follow_up_at)
    return apply_outcome(
        record,
        outcome,
        user_id=user_id,
        now=now,
        follow_up_at=as_utc(chosen.follow_up_at) if chosen.follow_up_at else None,
        follow_up_owner_id=chosen.follow_up_owner_id,
        set_by=SET_BY,
    )


def may_resolve(
    correction_id: int,
    *,
    owner_user_id: int,
    resolved_at: datetime | None,
    allowed_outcomes: list[str],
    user_id: int,
    code: str,
) -> None:
    """Only the user it was sent to resolves a correction, once, with an allowed outcome."""
    if owner_user_id != user_id:
        raise Forbidden("only the user the correction was sent to may resolve it")
    if resolved_at is not None:
        raise Conflict(f"correction {correction_id} is resolved already")
    if code not in allowed_outcomes:
        raise Unprocessable(
            f"outcome '{code}' is not one of the allowed outcomes",
            allowed_outcomes=allowed_outcomes,
        )


def resolve(
    record: MembershipRecord,
    flow: FlowSpec,
    chosen: ChosenOutcome,
    *,
    correction_id: int,
    correction_assignment_id: int,
    previous_state: str,
    user_id: int,
    now: datetime,
) -> Change:
    """The owner's outcome for a customer waiting in correction (rule 26a)."""
    if record.state != CORRECTION_STATE or record.assignment_id != correction_assignment_id:
        raise Conflict("the customer no longer waits for this correction (it was moved)")
    outcome = outcome_for(flow, chosen.code, previous_state)
    if outcome is None:
        raise Unprocessable(f"outcome '{chosen.code}' is no longer in the flow")
    changed, followup = apply_chosen(record, outcome, chosen, user_id=user_id, now=now)
    return Change(
        changed,
        EventDraft(
            kind=EventKind.outcome,
            code=chosen.code,
            from_state=CORRECTION_STATE,
            to_state=outcome.to_state,
            comment=chosen.comment,
            data={"correction_id": correction_id} | followup,
        ),
    )


def may_correct(
    event_id: int, *, kind: str, assignment_id: int | None, corrected_by_event_id: int | None
) -> None:
    """Only an outcome not corrected yet can be corrected (rule 26b)."""
    if kind != EventKind.outcome or assignment_id is None:
        raise Unprocessable(f"event {event_id} is not an outcome; only outcomes can be")
    if corrected_by_event_id is not None:
        raise Conflict(f"event {event_id} is corrected already by event {corrected_by_event_id}")


def self_correction_outcome(flow: FlowSpec, code: str, *, from_state: str | None) -> FlowOutcome:
    """The outcome that replaces a corrected one: one the flow allows from where the
    corrected one was registered."""
    if not flow.has_outcome(code):
        raise Unprocessable(f"unknown outcome '{code}'")
    state = from_state or ""
    outcome = flow.outcome(code, state)
    if state == CORRECTION_STATE:
        # Resolving a correction was not bound by from-states (the sender chose the codes);
        # neither is correcting that resolution.
        outcome = outcome_for(flow, code, state)
    if outcome is None:
        raise Unprocessable(
            f"outcome '{code}' is not allowed from state '{state}', "
            "where the corrected outcome was registered"
        )
    return outcome


def self_correct(
    record: MembershipRecord | None,
    outcome: FlowOutcome,
    chosen: ChosenOutcome,
    *,
    corrected_event_id: int,
    from_state: str | None,
    user_id: int,
    now: datetime,
) -> tuple[MembershipRecord | None, EventDraft]:
    """The new outcome event, and the membership in its state when the corrected outcome is
    still what set it (`record`); None leaves the present state to the later step."""
    data: dict[str, Any] = {"correction_of": corrected_event_id}
    changed = None
    if record is not None:
        changed, followup = apply_chosen(record, outcome, chosen, user_id=user_id, now=now)
        data |= followup
    return changed, EventDraft(
        kind=EventKind.outcome,
        code=chosen.code,
        from_state=from_state,
        to_state=outcome.to_state,
        comment=chosen.comment,
        data=data,
    )
