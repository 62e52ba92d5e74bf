"""A membership's state, declared once.

The API schema (services/api/work/schemas.py `MembershipOut`), the placement facts
(shared/membership/placement.py) and the versioned write's columns (shared/membership/statements.py)
are derived from the fields below, so a new column is added here and in its migration (and
the ORM model, which maps the table).
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

# A field's role decides who may change it. Unmarked fields are the state a rule changes and
# the holder's versioned write stores.
ROLE = "role"
KEY = {ROLE: "key"}  # who and where: never changed
PLACE = {ROLE: "place"}  # which assignment and segment: only a move changes them
VERSION = {ROLE: "version"}  # grows by one with every write


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    """A customer's place in its one active assignment (rule 6), as plain values.

    Rules (shared/membership/rules) take one and return a new one; they never change it in
    place. Plain slots, not an ORM object: the hot path reads and writes these columns on
    every outcome, and an ORM object's instrumentation would cost for nothing.
    """

    id: int = field(metadata=KEY)
    tenant_id: int = field(metadata=KEY)
    customer_id: int = field(metadata=KEY)
    assignment_id: int = field(metadata=PLACE)
    segment_id: int | None = field(metadata=PLACE)
    state: str
    state_set_by: str
    state_set_by_user_id: int | None
    state_set_at: datetime | None
    attempts: int
    last_attempt_at: datetime | None
    followup_at: datetime | None
    followup_kind: str | None
    followup_owner_id: int | None
    version: int = field(metadata=VERSION)


COLUMNS: Final = tuple(f.name for f in fields(MembershipRecord))
# What an attempt, an outcome or a correction may change; the versioned write stores these
# and the version grows by one.
STATE_COLUMNS: Final = tuple(f.name for f in fields(MembershipRecord) if ROLE not in f.metadata)
# What the API shows of a membership (its keys are in the URL and the card).
SHOWN_COLUMNS: Final = tuple(
    f.name for f in fields(MembershipRecord) if f.metadata.get(ROLE) != "key"
)
# What decides a customer's place in its queue (shared/membership/placement.py reads them in
# this order).
PLACEMENT_COLUMNS: Final = (
    "id",
    "segment_id",
    "state",
    "attempts",
    "last_attempt_at",
    "followup_at",
    "followup_kind",
    "followup_owner_id",
)


def record_of(row: Any) -> MembershipRecord:
    """The record of anything with the columns as attributes (a Membership row)."""
    return MembershipRecord(*(getattr(row, name) for name in COLUMNS))


def store_into(target: Any, record: MembershipRecord) -> None:
    """Copy what a rule changed onto a mapped Membership; its version the ORM bumps itself."""
    for name in COLUMNS:
        if name not in ("id", "tenant_id", "customer_id", "version"):
            value = getattr(record, name)
            if getattr(target, name) != value:
                setattr(target, name, value)


def imported(
    *,
    id: int,
    tenant_id: int,
    customer_id: int,
    assignment_id: int,
    segment_id: int | None,
    state: str,
) -> MembershipRecord:
    """A membership as an import creates it: no attempts, no follow-up, version 1."""
    return MembershipRecord(
        id=id,
        tenant_id=tenant_id,
        customer_id=customer_id,
        assignment_id=assignment_id,
        segment_id=segment_id,
        state=state,
        state_set_by="import",
        state_set_by_user_id=None,
        state_set_at=None,
        attempts=0,
        last_attempt_at=None,
        followup_at=None,
        followup_kind=None,
        followup_owner_id=None,
        version=1,
    )
