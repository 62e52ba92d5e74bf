"""/v1/flows: the tenant's customer flows (assignment setup)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.audit.recording import audit
from services.api.deps import Res, Setup
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.flows import service
from services.api.flows.schemas import FlowCreate, FlowOut
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from shared.audit import AuditAction

router = APIRouter(tags=["flows"])

FlowPages = Annotated[PageRequest[IdKey], Depends(paging(service.FLOWS))]


@router.get("/flows", summary="List flows")
async def list_flows(principal: Setup, resources: Res, page: FlowPages) -> Page[FlowOut]:
    """The tenant's customer flows: states and the outcomes between them."""
    async with resources.session() as session:
        flows = await service.list_flows(session, principal.tenant_id, page=page)
        return page.answer(Page[FlowOut], flows, key=by_id, item=service.to_out)


@router.post(
    "/flows",
    responses=refuses(
        "an inconsistent flow: state keys not unique, an outcome between "
        "undeclared states, no free state"
    ),
    summary="Create a flow",
    status_code=status.HTTP_201_CREATED,
)
async def create_flow(body: FlowCreate, principal: Setup, resources: Res) -> FlowOut:
    """Create a flow; an inconsistent one (unknown state, no free state, ...) answers 422."""
    async with resources.session() as session:
        flow = await service.create_flow(session, principal.tenant_id, data=body)
        audit(session, principal, AuditAction.flow_created, ("flow", flow.id))
    return service.to_out(flow)


@router.get("/flows/{flow_id}", summary="Get a flow")
async def get_flow(flow_id: IdPath, principal: Setup, resources: Res) -> FlowOut:
    """One flow: its states, its outcomes and the state new customers start in."""
    async with resources.session() as session:
        flow = await service.get_flow(session, principal.tenant_id, flow_id)
        return service.to_out(flow)
