"""Small factories for the domain tests: a membership record and the demo flow."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.membership.record import MembershipRecord, imported

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
AGENT = 7
COLLEAGUE = 8
FLOW = FlowSpec.model_validate(SEED_FLOW)
# Every row of the demo flow's table: (code, from state, to state, follow-up rule).
FLOW_ROWS = [
    (o.code, state, o.to_state, o.follow_up.value) for o in FLOW.outcomes for state in o.from_states
]
STATES = [s.key for s in FLOW.states]


def record(**changes: Any) -> MembershipRecord:
    """A free customer of assignment 1, as imported, with `changes`."""
    base = imported(
        id=11, tenant_id=1, customer_id=101, assignment_id=1, segment_id=None, state="free"
    )
    return replace(base, **changes)


@dataclass(frozen=True)
class Outcome:
    """What an agent or a corrector registers (the API's request bodies have these fields)."""

    code: str
    follow_up_at: datetime | None = None
    follow_up_owner_id: int | None = None
    comment: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
