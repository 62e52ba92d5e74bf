"""Moves between assignments and segments (rule 9)."""

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.membership.events import Change, EventDraft
from shared.membership.record import MembershipRecord
from shared.models import EventKind


def move(
    record: MembershipRecord,
    *,
    target_assignment_id: int,
    target_segment_id: int | None,
    initial_state: str,
    user_id: int,
    now: datetime,
) -> Change | None:
    """Into another assignment: its initial state, unsegmented unless a segment is named,
    attempts and follow-up dropped, history kept. Within the assignment: only the segment
    changes. None when it is where it should go already."""
    data: dict[str, Any]
    if record.assignment_id == target_assignment_id:
        if record.segment_id == target_segment_id:
            return None
        data = {"from_segment_id": record.segment_id, "to_segment_id": target_segment_id}
        changed = replace(record, segment_id=target_segment_id, version=record.version + 1)
    else:
        data = {
            "from_assignment_id": record.assignment_id,
            "to_assignment_id": target_assignment_id,
            "from_state": record.state,
        }
        changed = replace(
            record,
            assignment_id=target_assignment_id,
            segment_id=target_segment_id,
            state=initial_state,
            state_set_by="move",
            state_set_by_user_id=user_id,
            state_set_at=now,
            attempts=0,
            last_attempt_at=None,
            followup_at=None,
            followup_kind=None,
            followup_owner_id=None,
            version=record.version + 1,
        )
    return Change(changed, EventDraft(kind=EventKind.moved, to_state=changed.state, data=data))
