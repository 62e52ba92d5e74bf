"""One more row of each of the care pipeline's lists, on a walk's desk (decision 028)."""

from datetime import timedelta

from shared.models import (
    Permission,
    PipelineDelegation,
    PipelineRequest,
    PipelineService,
    PipelineTask,
    User,
)
from shared.pipeline.codes import DecisionMaker, RequestKind, RequestStatus, TaskStatus
from shared.pipeline.store import service_search_text
from tests.api.pagination.desk import Desk


async def service(desk: Desk) -> int:
    """A service; every other one in the same region, so that names and regions repeat."""
    n = next(desk.numbers)
    name, region = f"Home care {n % 3}", f"Region {n}"
    row = PipelineService(
        tenant_id=desk.tenant.id,
        kind=RequestKind.service.value,
        name=name,
        region=region,
        search_text=service_search_text(name, "", region),
    )
    return (await desk.saved(row)).id


async def colleague(desk: Desk) -> int:
    """A relationship manager the colleague search finds ("walker"); some share a name."""
    n = next(desk.numbers)
    user = User(
        tenant_id=desk.tenant.id,
        name=f"Walker {n % 2}",
        permissions=[Permission.pipeline_manage.value],
    )
    return (await desk.saved(user)).id


async def request(desk: Desk) -> int:
    row = PipelineRequest(
        tenant_id=desk.tenant.id,
        kind=RequestKind.service.value,
        status=RequestStatus.new.value,
        prospect_id=desk.customer.id,
        decision_maker=DecisionMaker.prospect.value,
        registered_by_id=desk.admin.id,
        manager_id=desk.admin.id,
    )
    return (await desk.saved(row)).id


async def task(desk: Desk) -> int:
    n = next(desk.numbers)
    row = PipelineTask(
        tenant_id=desk.tenant.id,
        request_id=await request(desk),
        title=f"Call back {n}",
        executor_id=desk.admin.id,
        status=TaskStatus.open.value,
        created_by_id=desk.admin.id,
    )
    return (await desk.saved(row)).id


async def delegation(desk: Desk) -> int:
    """A coming absence of the admin's; some start at the same time (on different days they
    would overlap, which the API refuses but the list must still page)."""
    n = next(desk.numbers)
    starts_at = desk.now + timedelta(days=1 + n % 3)
    row = PipelineDelegation(
        tenant_id=desk.tenant.id,
        from_user_id=desk.admin.id,
        to_user_id=await colleague(desk),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
        created_by_id=desk.admin.id,
    )
    return (await desk.saved(row)).id
