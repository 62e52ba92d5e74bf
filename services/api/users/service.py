"""Users of a tenant and their API tokens. Every query is bound to the caller's tenant."""

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.errors import Conflict, NotFound, Unprocessable
from services.api.pagination import IdKey, Keyset, PageRequest
from services.api.users.schemas import TokenCreate, UserCreate, UserUpdate
from shared.infra.tokens import hash_token, new_token
from shared.models import ApiToken, Permission, Tenant, User

USERS: Keyset[IdKey] = Keyset("users", IdKey)
TOKENS: Keyset[IdKey] = Keyset("tokens", IdKey)


async def get_tenant(session: AsyncSession, tenant_id: int) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


async def list_users(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[User]:
    query = page.window(select(User).where(User.tenant_id == tenant_id), User.id)
    return (await session.scalars(query)).all()


async def get_user(session: AsyncSession, tenant_id: int, user_id: int) -> User:
    user = await session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def create_user(session: AsyncSession, tenant_id: int, *, data: UserCreate) -> User:
    user = User(
        tenant_id=tenant_id,
        name=data.name,
        email=data.email,
        team=data.team,
        language=data.language,
        permissions=[p.value for p in data.permissions],
        active=True,
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(
    session: AsyncSession, tenant_id: int, user_id: int, *, data: UserUpdate
) -> User:
    # Serialise changes to one tenant's users, so two administrators cannot demote each
    # other at the same time and leave the tenant with none.
    await session.scalar(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    user = await get_user(session, tenant_id, user_id)
    was_admin = user.active and Permission.administrator.value in user.permissions
    if data.name is not None:
        user.name = data.name
    if data.email is not None:
        user.email = data.email
    if data.team is not None:
        user.team = data.team
    if "language" in data.model_fields_set:
        user.language = data.language
    if data.permissions is not None:
        user.permissions = [p.value for p in data.permissions]
    if data.active is not None:
        user.active = data.active
    is_admin = user.active and Permission.administrator.value in user.permissions
    if was_admin and not is_admin and await _other_admins(session, tenant_id, user.id) == 0:
        raise Conflict("the tenant's last active administrator cannot be demoted or deactivated")
    await session.flush()
    return user


async def _other_admins(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    # Permissions are a small JSON list: filter in Python over the tenant's active users.
    users = await session.scalars(
        select(User).where(User.tenant_id == tenant_id, User.active, User.id != user_id)
    )
    return sum(Permission.administrator.value in u.permissions for u in users)


async def create_token(
    session: AsyncSession, tenant_id: int, user_id: int, *, data: TokenCreate
) -> tuple[ApiToken, str]:
    """A new token for the user: the row (which keeps only the hash) and the plain token."""
    user = await get_user(session, tenant_id, user_id)
    scopes = None if data.scopes is None else [p.value for p in data.scopes]
    if scopes is not None and Permission.administrator.value not in user.permissions:
        missing = [p for p in scopes if p not in user.permissions]
        if missing:
            raise Unprocessable(
                f"a token's scopes must be held by its user; {user.name} lacks {missing}",
                code="scope_not_held",
            )
    plain = new_token()
    token = ApiToken(
        tenant_id=tenant_id,
        user_id=user.id,
        name=data.name,
        token_hash=hash_token(plain),
        expires_at=data.expires_at,
        scopes=scopes,
    )
    session.add(token)
    await session.flush()
    return token, plain


async def list_tenant_tokens(
    session: AsyncSession, tenant_id: int, *, user_id: int | None, page: PageRequest[IdKey]
) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return (await session.scalars(page.window(query, ApiToken.id))).all()


async def list_tokens(
    session: AsyncSession, tenant_id: int, user_id: int, *, page: PageRequest[IdKey]
) -> Sequence[ApiToken]:
    await get_user(session, tenant_id, user_id)
    return await list_tenant_tokens(session, tenant_id, user_id=user_id, page=page)


async def revoke_token(session: AsyncSession, tenant_id: int, token_id: int) -> ApiToken:
    """Revoke a token (again is fine: the first revocation time stays)."""
    token = await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.tenant_id == tenant_id)
    )
    if token is None:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        await session.flush()
    return token


def changed(data: UserUpdate, before: set[str], user: User) -> dict[str, list[str]]:
    """What an update changed, for the audit log: field names and permissions, no values."""
    after = set(user.permissions)
    return {
        "fields": sorted(data.model_fields_set),
        "permissions_added": sorted(after - before),
        "permissions_removed": sorted(before - after),
    }
