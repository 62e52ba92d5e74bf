"""Users' names for showing who did what: one read for many ids, within the tenant."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import User


async def user_names(
    session: AsyncSession, tenant_id: int, ids: Iterable[int | None]
) -> dict[int, str]:
    """The names of the tenant's users among `ids` (None ids are skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.id, User.name).where(User.tenant_id == tenant_id, User.id.in_(wanted))
    )
    return {user_id: name for user_id, name in rows.all()}
