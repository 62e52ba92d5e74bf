"""Who a token stands for: its user, narrowed by the token's scopes, while it is valid."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.auth.cache import Principal
from shared.infra.db import unit_of_work
from shared.models import ApiToken, Permission, User

# Last-used time is kept to this precision: a token in use writes at most once per this long
# (per API process, after a cache miss), never on every request (the hot path writes nothing).
LAST_USED_PRECISION = timedelta(seconds=60)


def effective_permissions(held: Iterable[str], scopes: Iterable[str] | None) -> frozenset[str]:
    """What a token may do: its user's permissions, or only its scopes that the user holds
    (an administrator holds them all)."""
    held = frozenset(held)
    if scopes is None:
        return held
    if Permission.administrator.value in held:
        return frozenset(scopes)
    return held & frozenset(scopes)


async def load_principal(
    sessionmaker: async_sessionmaker[AsyncSession], token_hash: str, *, now: datetime
) -> Principal | None:
    """The caller of a valid token (known, not revoked, not expired, its user active)."""
    async with sessionmaker() as session:
        row = (
            await session.execute(
                select(User, ApiToken)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(
                    ApiToken.token_hash == token_hash,
                    ApiToken.revoked_at.is_(None),
                    or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
                    User.active.is_(True),
                )
            )
        ).one_or_none()
    if row is None:
        return None
    user, token = row
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        await _touch(sessionmaker, token.id, now=now)
    return Principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        name=user.name,
        permissions=effective_permissions(user.permissions, token.scopes),
        token_id=token.id,
        expires_at=token.expires_at,
        language=user.language,
    )


async def _touch(
    sessionmaker: async_sessionmaker[AsyncSession], token_id: int, *, now: datetime
) -> None:
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
