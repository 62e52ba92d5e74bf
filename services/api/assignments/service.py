"""Assignments of a tenant, their segments, and re-placing their customers in the queue."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.assignments.schemas import (
    AssignmentCreate,
    AssignmentUpdate,
    QueueCounts,
    SegmentCreate,
    SegmentOut,
    SortKey,
    column_values,
    settings_problem,
)
from services.api.custom_fields.service import field_keys
from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.visibility import visible_to
from services.queue import AssignmentQueue
from shared.flows import FlowSpec
from shared.membership.placement import load_queue_facts
from shared.models import Assignment, Flow, Membership, Segment, User

UNSEGMENTED = "unsegmented"

ASSIGNMENTS: Keyset[IdKey] = Keyset("assignments", IdKey)
# "unsegmented" (id null) comes first, at key 0.
SEGMENTS: Keyset[IdKey] = Keyset("segments", IdKey)

# Settings that decide where customers wait in the queue: changing one re-places them.
PLACEMENT_FIELDS = frozenset(
    {
        "flow_id",
        "attempt_limit",
        "attempt_limit_action",
        "cooldown_seconds",
        "sort_keys",
        "default_time_zone",
        "register_exempt_field",
        "consent_required",
    }
)


async def list_assignments(
    session: AsyncSession, tenant_id: int, *, viewer: int | None, page: PageRequest[IdKey]
) -> list[Assignment]:
    """The tenant's assignments; with a viewer, only those visible to that agent now.

    Visibility is decided in Python, so for a viewer every row past the cursor is read: a
    tenant has a few dozen assignments, not thousands."""
    query = select(Assignment).where(Assignment.tenant_id == tenant_id)
    result = await session.scalars(page.window(query, Assignment.id, limited=viewer is None))
    now = datetime.now(UTC)
    return [a for a in result if viewer is None or visible_to(a, viewer, now)][: page.fetch]


async def get_assignment(
    session: AsyncSession, tenant_id: int, assignment_id: int, *, viewer: int | None = None
) -> Assignment:
    """One assignment of the tenant; with a viewer, 404 unless visible to that agent now."""
    assignment = await session.scalar(
        select(Assignment).where(Assignment.id == assignment_id, Assignment.tenant_id == tenant_id)
    )
    if assignment is None or (
        viewer is not None and not visible_to(assignment, viewer, datetime.now(UTC))
    ):
        raise NotFound(f"assignment {assignment_id} not found")
    return assignment


async def create_assignment(
    session: AsyncSession, tenant_id: int, *, data: AssignmentCreate
) -> Assignment:
    await _check_references(
        session,
        tenant_id,
        flow_id=data.flow_id,
        sort_keys=data.sort_keys,
        user_ids=data.visible_user_ids,
        exempt_field=data.register_exempt_field,
    )
    values = column_values(data)
    values["visible_user_ids"] = list(dict.fromkeys(data.visible_user_ids))
    assignment = Assignment(tenant_id=tenant_id, **values)
    session.add(assignment)
    await session.flush()
    return assignment


@dataclass(frozen=True, slots=True)
class Updated:
    assignment: Assignment
    replace: bool  # a setting that decides queue places changed


async def update_assignment(
    session: AsyncSession, tenant_id: int, assignment_id: int, *, data: AssignmentUpdate
) -> Updated:
    assignment = await get_assignment(session, tenant_id, assignment_id)
    changes = column_values(data, only_set=True)
    if "visible_user_ids" in changes:
        changes["visible_user_ids"] = list(dict.fromkeys(changes["visible_user_ids"]))
    await _check_references(
        session,
        tenant_id,
        flow_id=changes.get("flow_id"),
        sort_keys=data.sort_keys or (),
        user_ids=data.visible_user_ids or (),
        exempt_field=data.register_exempt_field,
    )
    replace = any(
        getattr(assignment, name) != value
        for name, value in changes.items()
        if name in PLACEMENT_FIELDS
    )
    for name, value in changes.items():
        setattr(assignment, name, value)
    if assignment.calling_rules is not None and assignment.contact_hours_start is not None:
        raise Unprocessable(
            "contact hours are the one-window case of calling rules: clear one to set the other",
            code="calling_rules_with_contact_hours",
        )
    problem = settings_problem(
        contact_hours_start=assignment.contact_hours_start,
        contact_hours_end=assignment.contact_hours_end,
        visible_from=assignment.visible_from,
        visible_until=assignment.visible_until,
        calling_rules=assignment.calling_rules,
    )
    if problem:
        raise Unprocessable(problem)
    await session.flush()
    return Updated(assignment, replace)


async def _check_references(
    session: AsyncSession,
    tenant_id: int,
    *,
    flow_id: int | None,
    sort_keys: Sequence[SortKey],
    user_ids: Collection[int],
    exempt_field: str | None = None,
) -> None:
    """Ids and field keys in the body must be the tenant's own (rule 1: others' look unknown)."""
    if flow_id is not None:
        found = await session.scalar(
            select(Flow.id).where(Flow.id == flow_id, Flow.tenant_id == tenant_id)
        )
        if found is None:
            raise Unprocessable(f"flow {flow_id} not found")
    custom = [k.custom_field for k in sort_keys if k.custom_field is not None]
    if exempt_field is not None and exempt_field not in await field_keys(session, tenant_id):
        raise Unprocessable(f"register_exempt_field {exempt_field!r} is no declared custom field")
    if custom:
        declared = await field_keys(session, tenant_id)
        unknown = [f"custom:{key}" for key in custom if key not in declared]
        if unknown:
            raise Unprocessable(f"sort key {unknown[0]} names no declared custom field")
    if user_ids:
        wanted = set(user_ids)
        known = set(
            await session.scalars(
                select(User.id).where(User.tenant_id == tenant_id, User.id.in_(wanted))
            )
        )
        missing = sorted(wanted - known)
        if missing:
            raise Unprocessable(f"users not found: {', '.join(map(str, missing))}")


async def queue_counts(redis: Redis, assignment_id: int) -> QueueCounts:
    depth = await AssignmentQueue(redis, assignment_id).depth()
    return QueueCounts(
        free=depth.get("free", 0),
        in_cooldown=depth.get("cool", 0),
        shared_followups=depth.get("sfu", 0),
        personal_followups=depth.get("pfu", 0),
        at_attempt_limit=depth.get("limit", 0),
        blocked=depth.get("blocked", 0),
        held=depth.get("held", 0),
    )


async def place_customers(
    session: AsyncSession,
    redis: Redis,
    assignment: Assignment,
    *,
    customer_ids: Sequence[int] | None = None,
) -> int:
    """Put the assignment's customers (all, or these) where their committed facts say.

    Call after the commit that changed the facts, so the queue follows PostgreSQL.
    """
    flow = await session.get(Flow, assignment.flow_id)
    if flow is None:  # pragma: no cover - a foreign key
        raise NotFound(f"flow {assignment.flow_id} not found")
    spec = FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})
    queue = AssignmentQueue(redis, assignment.id)
    placed = 0
    async for batch in load_queue_facts(session, assignment, spec, customer_ids=customer_ids):
        placed += await queue.place_sources(batch)
    return placed


async def list_segments(
    session: AsyncSession, assignment: Assignment, *, page: PageRequest[IdKey]
) -> list[SegmentOut]:
    """The default "unsegmented" first (on the first page), then the named segments, each
    with its size."""
    query = select(Segment).where(
        Segment.assignment_id == assignment.id, Segment.tenant_id == assignment.tenant_id
    )
    segments = list(await session.scalars(page.window(query, Segment.id)))
    first = page.after is None
    in_page = Membership.segment_id.in_([s.id for s in segments])
    sizes: dict[int | None, int] = {
        segment_id: int(count)
        for segment_id, count in (
            await session.execute(
                select(Membership.segment_id, func.count())
                .where(
                    Membership.assignment_id == assignment.id,
                    Membership.tenant_id == assignment.tenant_id,
                    or_(in_page, Membership.segment_id.is_(None)) if first else in_page,
                )
                .group_by(Membership.segment_id)
            )
        )
    }
    named = [
        SegmentOut(id=s.id, name=s.name, size=sizes.get(s.id, 0), created_at=s.created_at)
        for s in segments
    ]
    if not first:
        return named
    default = SegmentOut(id=None, name=UNSEGMENTED, size=sizes.get(None, 0), created_at=None)
    return [default, *named]


async def create_segment(
    session: AsyncSession, assignment: Assignment, *, data: SegmentCreate
) -> Segment:
    """A new, empty segment; names are unique per assignment, whatever their case."""
    taken = await session.scalar(
        select(Segment.id).where(
            Segment.assignment_id == assignment.id,
            func.lower(Segment.name) == data.name.lower(),
        )
    )
    if taken is not None or data.name.lower() == UNSEGMENTED:
        raise Conflict(f"segment '{data.name}' already exists in this assignment")
    segment = Segment(tenant_id=assignment.tenant_id, assignment_id=assignment.id, name=data.name)
    session.add(segment)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the name
        raise Conflict(f"segment '{data.name}' already exists in this assignment") from exc
    return segment
