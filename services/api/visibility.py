"""Who may see and work an assignment, and when (rules 8 and 12)."""

from datetime import datetime

from shared.infra.timeutil import as_utc
from shared.models import Assignment


def visible_to(assignment: Assignment, user_id: int, now: datetime) -> bool:
    """Active, open to this user (all users or the chosen ones), and inside its dates."""
    if not assignment.active:
        return False
    if not assignment.visible_to_all and user_id not in assignment.visible_user_ids:
        return False
    if assignment.visible_from is not None and now < as_utc(assignment.visible_from):
        return False
    return assignment.visible_until is None or now < as_utc(assignment.visible_until)
