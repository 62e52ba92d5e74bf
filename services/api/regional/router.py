"""The tenant's region, locale and closed days."""

from fastapi import APIRouter

from services.api.deps import Admin, CurrentUser, Res
from services.api.errors import refuses
from services.api.regional.schemas import RegionalIn, RegionalOut
from shared.models import Tenant

router = APIRouter(tags=["regional"])


def _out(tenant: Tenant) -> RegionalOut:
    return RegionalOut.model_validate(
        {"region": tenant.region, "locale": tenant.locale, "closed_days": tenant.closed_days}
    )


@router.get(
    "/tenant/regional", summary="Get the tenant's regional settings", response_model=RegionalOut
)
async def get_regional(resources: Res, user: CurrentUser) -> RegionalOut:
    """The tenant's country (phone numbers, public holidays), sort order and closed days."""
    async with resources.sessionmaker() as session:
        tenant = await session.get(Tenant, user.tenant_id)
        assert tenant is not None  # the caller's own tenant
        return _out(tenant)


@router.put(
    "/tenant/regional",
    responses=refuses("a region phone numbers are not known for"),
    summary="Set the tenant's regional settings",
    response_model=RegionalOut,
)
async def put_regional(body: RegionalIn, resources: Res, admin: Admin) -> RegionalOut:
    """Calling rules see new closed days within the assignment cache's refresh (seconds);
    customers already in a queue keep their zone's country until they are placed again."""
    async with resources.session() as session:
        tenant = await session.get(Tenant, admin.tenant_id)
        assert tenant is not None
        tenant.region = body.region
        tenant.locale = body.locale
        tenant.closed_days = sorted({d.isoformat() for d in body.closed_days})
        return _out(tenant)
