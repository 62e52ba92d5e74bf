"""/v1/me, /v1/users and /v1/tokens: who is calling, the tenant's users and their tokens."""

from fastapi import APIRouter, status

from services.api.deps import Admin, CurrentUser, Res
from services.api.fields import IdPath
from services.api.users import service
from services.api.users.schemas import (
    MeOut,
    NewTokenOut,
    TenantOut,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)

router = APIRouter(tags=["users"])


@router.get("/me")
async def me(principal: CurrentUser, resources: Res) -> MeOut:
    """The caller: who they are, their tenant and their permissions."""
    async with resources.session() as session:
        user = await service.get_user(session, principal.tenant_id, principal.user_id)
        tenant = await service.get_tenant(session, principal.tenant_id)
    return MeOut(
        id=user.id,
        name=user.name,
        email=user.email,
        team=user.team,
        tenant=TenantOut.model_validate(tenant),
        permissions=list(user.permissions),
    )


@router.get("/users")
async def list_users(principal: Admin, resources: Res) -> list[UserOut]:
    async with resources.session() as session:
        users = await service.list_users(session, principal.tenant_id)
        return [UserOut.model_validate(u) for u in users]


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, principal: Admin, resources: Res) -> UserOut:
    async with resources.session() as session:
        user = await service.create_user(session, principal.tenant_id, data=body)
    return UserOut.model_validate(user)


@router.get("/users/{user_id}")
async def get_user(user_id: IdPath, principal: Admin, resources: Res) -> UserOut:
    async with resources.session() as session:
        user = await service.get_user(session, principal.tenant_id, user_id)
        return UserOut.model_validate(user)


@router.patch("/users/{user_id}")
async def update_user(
    user_id: IdPath, body: UserUpdate, principal: Admin, resources: Res
) -> UserOut:
    """Change a user; new permissions and deactivation apply to the next request."""
    async with resources.session() as session:
        user = await service.update_user(session, principal.tenant_id, user_id, data=body)
    resources.principals.forget_user(user.id)
    return UserOut.model_validate(user)


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(
    user_id: IdPath, body: TokenCreate, principal: Admin, resources: Res
) -> NewTokenOut:
    """A new API token for the user. The response is the only place the token is shown."""
    async with resources.session() as session:
        token, plain = await service.create_token(session, principal.tenant_id, user_id, data=body)
    return NewTokenOut(
        id=token.id,
        user_id=token.user_id,
        name=token.name,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        token=plain,
    )


@router.get("/users/{user_id}/tokens")
async def list_tokens(user_id: IdPath, principal: Admin, resources: Res) -> list[TokenOut]:
    async with resources.session() as session:
        tokens = await service.list_tokens(session, principal.tenant_id, user_id)
        return [TokenOut.model_validate(t) for t in tokens]


@router.delete("/tokens/{token_id}")
async def revoke_token(token_id: IdPath, principal: Admin, resources: Res) -> TokenOut:
    """Revoke a token: requests carrying it answer 401 from now on. Revoking again is a no-op."""
    async with resources.session() as session:
        token = await service.revoke_token(session, principal.tenant_id, token_id)
    resources.principals.forget_user(token.user_id)
    return TokenOut.model_validate(token)
