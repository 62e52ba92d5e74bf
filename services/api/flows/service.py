"""Customer flows of a tenant. A flow is stored only once shared.flows.FlowSpec accepts it."""

from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.errors import NotFound
from services.api.fields import unprocessable
from services.api.flows.schemas import FlowCreate, FlowOut
from services.api.pagination import IdKey, Keyset, PageRequest
from shared.flows import FlowSpec
from shared.models import Flow

FLOWS: Keyset[IdKey] = Keyset("flows", IdKey)


def spec_of(flow: Flow) -> FlowSpec:
    return FlowSpec.model_validate({"states": flow.states, "outcomes": flow.outcomes})


def to_out(flow: Flow) -> FlowOut:
    spec = spec_of(flow)
    return FlowOut(
        id=flow.id,
        name=flow.name,
        states=spec.states,
        outcomes=spec.outcomes,
        initial_state=spec.initial_state,
        created_at=flow.created_at,
    )


async def list_flows(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[Flow]:
    query = page.window(select(Flow).where(Flow.tenant_id == tenant_id), Flow.id)
    return (await session.scalars(query)).all()


async def get_flow(session: AsyncSession, tenant_id: int, flow_id: int) -> Flow:
    flow = await session.scalar(select(Flow).where(Flow.id == flow_id, Flow.tenant_id == tenant_id))
    if flow is None:
        raise NotFound(f"flow {flow_id} not found")
    return flow


async def create_flow(session: AsyncSession, tenant_id: int, *, data: FlowCreate) -> Flow:
    try:
        spec = FlowSpec.model_validate(
            {
                "states": [s.model_dump() for s in data.states],
                "outcomes": [o.model_dump() for o in data.outcomes],
            }
        )
    except ValidationError as exc:
        raise unprocessable("invalid flow", exc) from exc
    dumped = spec.model_dump(mode="json")
    flow = Flow(
        tenant_id=tenant_id, name=data.name, states=dumped["states"], outcomes=dumped["outcomes"]
    )
    session.add(flow)
    await session.flush()
    return flow
