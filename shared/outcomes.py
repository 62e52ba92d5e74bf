"""Applying a flow outcome to a membership: one place for the agent's outcome, a resolved
correction, a self-correction and a bulk outcome (rules 7, 21, 26, 28)."""

from datetime import datetime
from typing import Any, Protocol

from shared.flows import FlowOutcome, FollowUpRule
from shared.models import FollowUpKind


class Changeable(Protocol):
    """What an outcome changes: a Membership, or the hot path's plain copy of one."""

    state: str
    state_set_by: str
    state_set_by_user_id: int | None
    state_set_at: datetime | None
    followup_at: datetime | None
    followup_kind: str | None
    followup_owner_id: int | None


def apply_outcome(
    membership: Changeable,
    outcome: FlowOutcome,
    *,
    user_id: int | None,
    now: datetime,
    follow_up_at: datetime | None = None,
    follow_up_owner_id: int | None = None,
    set_by: str = "user",
) -> dict[str, Any]:
    """Move the membership to the outcome's state and set or clear its follow-up.

    The caller has checked that the outcome is allowed. Returns the follow-up part of the
    event's data (empty when the customer has no follow-up now).
    """
    membership.state = outcome.to_state
    membership.state_set_by = set_by
    membership.state_set_by_user_id = user_id
    membership.state_set_at = now
    if outcome.follow_up == FollowUpRule.personal:
        set_followup(
            membership, FollowUpKind.personal, follow_up_at, owner=follow_up_owner_id or user_id
        )
    elif outcome.follow_up == FollowUpRule.shared and follow_up_at is not None:
        set_followup(membership, FollowUpKind.shared, follow_up_at, owner=None)
    else:
        clear_followup(membership)
    if not membership.followup_kind:
        return {}
    return {
        "followup_kind": membership.followup_kind,
        "followup_at": follow_up_at.isoformat() if follow_up_at else None,
        "followup_owner_id": membership.followup_owner_id,
    }


def set_followup(
    membership: Changeable, kind: FollowUpKind, at: datetime | None, *, owner: int | None
) -> None:
    membership.followup_kind = kind.value
    membership.followup_at = at
    membership.followup_owner_id = owner


def clear_followup(membership: Changeable) -> None:
    membership.followup_kind = None
    membership.followup_at = None
    membership.followup_owner_id = None
