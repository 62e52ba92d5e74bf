"""/v1/assignments and their segments.

Assignment setup configures; agents (customer handling) read the assignments visible to them.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.access import AssignmentReader
from services.api.assignments import service
from services.api.assignments.schemas import (
    AssignmentCreate,
    AssignmentDetail,
    AssignmentOut,
    AssignmentUpdate,
    SegmentCreate,
    SegmentOut,
)
from services.api.audit.recording import audit
from services.api.auth.cache import Principal
from services.api.deps import Res, Setup
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from shared.audit import AuditAction
from shared.models import Permission

router = APIRouter(tags=["assignments"])

AssignmentPages = Annotated[PageRequest[IdKey], Depends(paging(service.ASSIGNMENTS))]
SegmentPages = Annotated[PageRequest[IdKey], Depends(paging(service.SEGMENTS))]


def _viewer(principal: Principal) -> int | None:
    """Whose visibility limits what the caller sees: none for assignment setup."""
    return None if principal.has(Permission.assignment_setup.value) else principal.user_id


@router.get("/assignments", summary="List assignments")
async def list_assignments(
    principal: AssignmentReader, resources: Res, page: AssignmentPages
) -> Page[AssignmentOut]:
    """The assignments the caller may see: all for assignment setup, the visible ones for agents."""
    async with resources.session() as session:
        assignments = await service.list_assignments(
            session, principal.tenant_id, viewer=_viewer(principal), page=page
        )
        return page.answer(
            Page[AssignmentOut], assignments, key=by_id, item=AssignmentOut.model_validate
        )


@router.post(
    "/assignments",
    responses=refuses(
        "settings that disagree: contact hours not set together, visibility "
        "dates out of order, a flow, user or custom sort key not the tenant's"
    ),
    summary="Create an assignment",
    status_code=status.HTTP_201_CREATED,
)
async def create_assignment(
    body: AssignmentCreate, principal: Setup, resources: Res
) -> AssignmentOut:
    """A new assignment on one of the tenant's flows, with its settings (rule 8)."""
    async with resources.session() as session:
        assignment = await service.create_assignment(session, principal.tenant_id, data=body)
        audit(session, principal, AuditAction.assignment_created, ("assignment", assignment.id))
    return AssignmentOut.model_validate(assignment)


@router.get("/assignments/{assignment_id}", summary="Get an assignment")
async def get_assignment(
    assignment_id: IdPath, principal: AssignmentReader, resources: Res
) -> AssignmentDetail:
    """The assignment's settings and the live counts of its queue."""
    async with resources.session() as session:
        assignment = await service.get_assignment(
            session, principal.tenant_id, assignment_id, viewer=_viewer(principal)
        )
        out = AssignmentOut.model_validate(assignment)
    queue = await service.queue_counts(resources.redis, assignment_id)
    return AssignmentDetail(**out.model_dump(), queue=queue)


@router.patch(
    "/assignments/{assignment_id}",
    responses=refuses(
        "settings that, with the stored ones, disagree: contact hours not set "
        "together, visibility dates out of order, a flow, user or custom sort "
        "key not the tenant's"
    ),
    summary="Change an assignment",
)
async def update_assignment(
    assignment_id: IdPath, body: AssignmentUpdate, principal: Setup, resources: Res
) -> AssignmentOut:
    """Change settings. Changes to ordering, limits, cooldown, flow or default time zone
    re-place the assignment's customers in its queue before the answer."""
    async with resources.session() as session:
        updated = await service.update_assignment(
            session, principal.tenant_id, assignment_id, data=body
        )
        target, fields = ("assignment", assignment_id), sorted(body.model_fields_set)
        audit(session, principal, AuditAction.assignment_changed, target, fields=fields)
    resources.assignments.forget(assignment_id)
    if updated.replace:
        async with resources.session() as session:
            await service.place_customers(session, resources.redis, updated.assignment)
    return AssignmentOut.model_validate(updated.assignment)


@router.get("/assignments/{assignment_id}/segments", summary="List an assignment's segments")
async def list_segments(
    assignment_id: IdPath, principal: AssignmentReader, resources: Res, page: SegmentPages
) -> Page[SegmentOut]:
    """The default "unsegmented" (id null) first, then the named segments, with sizes."""
    async with resources.session() as session:
        assignment = await service.get_assignment(
            session, principal.tenant_id, assignment_id, viewer=_viewer(principal)
        )
        segments = await service.list_segments(session, assignment, page=page)
    return page.answer(Page[SegmentOut], segments, key=lambda s: (s.id or 0,))


@router.post(
    "/assignments/{assignment_id}/segments",
    summary="Create a segment",
    status_code=status.HTTP_201_CREATED,
)
async def create_segment(
    assignment_id: IdPath, body: SegmentCreate, principal: Setup, resources: Res
) -> SegmentOut:
    """A new, empty segment; a name already used in the assignment answers 409."""
    async with resources.session() as session:
        assignment = await service.get_assignment(session, principal.tenant_id, assignment_id)
        segment = await service.create_segment(session, assignment, data=body)
        audit(session, principal, AuditAction.segment_created, ("segment", segment.id))
    resources.assignments.forget(assignment_id)
    return SegmentOut(id=segment.id, name=segment.name, size=0, created_at=segment.created_at)
