"""Queue facts of the customers an import batch created, from what the batch wrote.

A new member has no attempts, follow-ups or history, so its place follows from its
membership id (the import order), segment, time zone, phones and custom fields: all known to
the import. Reading a million of them back would cost more than writing them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.calling.zones import zone_key
from shared.contact.bars import NO_BARS, Bars
from shared.flows import FlowSpec
from shared.importing.upsert import NewMember
from shared.membership.placement import QueueFacts, barred, queue_facts
from shared.membership.record import imported
from shared.models import Assignment, AttemptLimitAction


@dataclass(frozen=True, slots=True)
class _Customer:
    id: int
    time_zone: str | None
    custom: dict[str, object] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)
    country: str | None = None
    # An imported customer has given no consent yet.
    phone_consent: bool | None = None


def new_member_facts(
    members: Sequence[NewMember],
    assignment: Assignment,
    flow: FlowSpec,
    *,
    bars: Bars = NO_BARS,
    default_country: str,
) -> list[QueueFacts]:
    """queue_facts for each new member; what depends only on the assignment is worked out
    once, and the general path is taken only for sort keys. `default_country` is the
    tenant's region (queue zones)."""
    state = flow.initial_state
    if assignment.sort_keys:
        return [
            queue_facts(
                imported(
                    id=m.membership_id,
                    tenant_id=assignment.tenant_id,
                    customer_id=m.customer_id,
                    assignment_id=assignment.id,
                    segment_id=m.segment_id,
                    state=state,
                ),
                _Customer(m.customer_id, m.time_zone, m.custom, list(m.phones), m.country),
                assignment,
                flow,
                bars=bars,
                default_country=default_country,
            )
            for m in members
        ]
    kind = flow.kind_of(state).value
    default_tz = assignment.default_time_zone
    limit = assignment.attempt_limit
    over_limit = limit is not None and limit <= 0
    stop = assignment.attempt_limit_action == AttemptLimitAction.stop
    check = bool(bars) or assignment.consent_required
    return [
        QueueFacts(
            customer_id=m.customer_id,
            segment_id=m.segment_id,
            time_zone=zone_key(
                time_zone=m.time_zone,
                country=m.country,
                phones=m.phones,
                default_time_zone=default_tz,
                default_country=default_country,
            ),
            state_kind=kind,
            followup_kind=None,
            followup_due_ms=None,
            followup_owner=None,
            blocked=check
            and barred(
                assignment,
                _Customer(m.customer_id, m.time_zone, m.custom, list(m.phones)),
                m.phones,
                bars,
            ),
            over_attempt_limit=over_limit,
            stop_at_limit=stop,
            cooldown_until_ms=None,
            import_order=m.membership_id,
        )
        for m in members
    ]
