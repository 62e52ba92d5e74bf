"""What the selection tests share: a user for assignment setup, and the memberships as rows."""

from typing import Any

from sqlalchemy import func, select

from shared.models import Event, Membership, Permission
from tests.api.world import World
from tests.factories import create_user


async def setup_token(world: World) -> str:
    _user, token = await create_user(
        world.session, world.tenant, name="Setup", permissions=[Permission.assignment_setup.value]
    )
    return token


async def post(world: World, path: str, token: str, body: dict[str, Any]) -> Any:
    return await world.client.post(path, json=body, headers=world.auth(token))


async def snapshot(world: World) -> tuple[list[tuple[Any, ...]], int]:
    """Every membership's state, segment, version and follow-up, and how many events exist:
    what "nothing changed" compares."""
    rows = (
        await world.session.execute(
            select(
                Membership.customer_id,
                Membership.state,
                Membership.segment_id,
                Membership.version,
                Membership.state_set_by,
                Membership.followup_at,
            ).order_by(Membership.customer_id)
        )
    ).all()
    events = await world.session.scalar(select(func.count(Event.id)))
    return [tuple(r) for r in rows], int(events or 0)
