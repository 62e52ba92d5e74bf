"""What next, leases and writes share: the assignment as the caller may see it, lease ids,
and the 409 for a stale holder."""

from datetime import UTC, datetime

from services.api.assignments.cache import AssignmentConfig
from services.api.auth.cache import Principal
from services.api.errors import Conflict, Forbidden, NotFound
from services.api.resources import Resources
from services.queue import NotHolder
from shared.infra import metrics
from shared.membership.record import MembershipRecord
from shared.membership.statements import CustomerView
from shared.models import User


async def config_for(res: Resources, assignment_id: int, principal: Principal) -> AssignmentConfig:
    config = await res.assignments.get(
        assignment_id,
        tenant_id=principal.tenant_id,
        sessionmaker=res.sessionmaker,
        redis=res.redis,
    )
    if config is None:
        raise NotFound(f"assignment {assignment_id} not found")
    if not config.visible_to(principal.user_id, datetime.now(UTC)):
        raise Forbidden(f"assignment {assignment_id} is not open to you now")
    return config


async def read_card(
    res: Resources, principal: Principal, customer_id: int
) -> tuple[MembershipRecord, CustomerView]:
    card = await res.store.read_card(customer_id, tenant_id=principal.tenant_id)
    if card is None:
        raise NotFound(f"customer {customer_id} not found or not in an assignment")
    return card


async def user_name(res: Resources, tenant_id: int, user_id: int) -> str:
    async with res.sessionmaker() as session:
        user = await session.get(User, user_id)
    return user.name if user is not None and user.tenant_id == tenant_id else f"user {user_id}"


async def stale(res: Resources, principal: Principal, exc: NotHolder) -> Conflict:
    metrics.STALE_WRITES.inc()
    if exc.holder_user_id is None:
        return Conflict(
            "you do not hold this customer: the lease expired or was released", code="lease_lost"
        )
    name = await user_name(res, principal.tenant_id, exc.holder_user_id)
    return Conflict(
        f"you do not hold this customer: it is held by {name}",
        code="lease_lost",
        holder={"id": exc.holder_user_id, "name": name},
    )


def lease_id_of(assignment_id: int, token: str) -> str:
    """The lease id an agent gets: "<assignment>.<token>" (tokens never contain a dot)."""
    return f"{assignment_id}.{token}"


def parse_lease_id(lease_id: str) -> tuple[int, str]:
    head, dot, token = lease_id.partition(".")
    if not dot or not head.isdigit() or not token:
        raise Conflict("you do not hold this customer: unknown lease id")
    return int(head), token
