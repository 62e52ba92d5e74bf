"""/v1/me, /v1/users and /v1/tokens: who is calling, the tenant's users and their tokens."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.api.audit.recording import audit
from services.api.auth.revocations import publish_token_revoked, publish_user_changed
from services.api.deps import Admin, CurrentUser, Res
from services.api.errors import refuses
from services.api.fields import DbId, IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
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
from shared.audit import AuditAction

router = APIRouter(tags=["users"])

UserPages = Annotated[PageRequest[IdKey], Depends(paging(service.USERS))]
TokenPages = Annotated[PageRequest[IdKey], Depends(paging(service.TOKENS))]


@router.get("/me", summary="Who am I")
async def me(principal: CurrentUser, resources: Res) -> MeOut:
    """The caller: who they are, their tenant and what this token may do (its user's
    permissions, narrowed by the token's scopes)."""
    async with resources.session() as session:
        user = await service.get_user(session, principal.tenant_id, principal.user_id)
        tenant = await service.get_tenant(session, principal.tenant_id)
    return MeOut(
        id=user.id,
        name=user.name,
        email=user.email,
        team=user.team,
        language=user.language,
        tenant=TenantOut.model_validate(tenant),
        permissions=sorted(principal.permissions),
    )


@router.get("/users", summary="List users")
async def list_users(principal: Admin, resources: Res, page: UserPages) -> Page[UserOut]:
    """The tenant's users, active or not, with their permission bundles."""
    async with resources.session() as session:
        users = await service.list_users(session, principal.tenant_id, page=page)
        return page.answer(Page[UserOut], users, key=by_id, item=UserOut.model_validate)


@router.post("/users", summary="Create a user", status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, principal: Admin, resources: Res) -> UserOut:
    """A new user of the tenant; give them a token (POST /v1/users/{id}/tokens) to call the API."""
    async with resources.session() as session:
        user = await service.create_user(session, principal.tenant_id, data=body)
        target = ("user", user.id)
        audit(session, principal, AuditAction.user_created, target, permissions=user.permissions)
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", summary="Get a user")
async def get_user(user_id: IdPath, principal: Admin, resources: Res) -> UserOut:
    """One user of the tenant."""
    async with resources.session() as session:
        user = await service.get_user(session, principal.tenant_id, user_id)
        return UserOut.model_validate(user)


@router.patch("/users/{user_id}", summary="Change a user")
async def update_user(
    user_id: IdPath, body: UserUpdate, principal: Admin, resources: Res
) -> UserOut:
    """Change a user; new permissions and deactivation apply to the next request."""
    async with resources.session() as session:
        before = set((await service.get_user(session, principal.tenant_id, user_id)).permissions)
        user = await service.update_user(session, principal.tenant_id, user_id, data=body)
        change = service.changed(body, before, user)
        audit(session, principal, AuditAction.user_changed, ("user", user.id), **change)
    resources.principals.forget_user(user.id)
    await publish_user_changed(resources.redis, user.id)
    return UserOut.model_validate(user)


@router.post(
    "/users/{user_id}/tokens",
    responses=refuses("an `expires_at` not in the future, or a scope the user does not hold"),
    summary="Create a token for a user",
    status_code=status.HTTP_201_CREATED,
)
async def create_token(
    user_id: IdPath, body: TokenCreate, principal: Admin, resources: Res
) -> NewTokenOut:
    """A new API token for the user. The response is the only place the token is shown.

    A token may expire (`expires_at`) and may be narrower than its user (`scopes`): a
    reporting token, say, or a dialer's token that only works the queue."""
    async with resources.session() as session:
        token, plain = await service.create_token(session, principal.tenant_id, user_id, data=body)
        target, scopes = ("token", token.id), token.scopes
        audit(
            session, principal, AuditAction.token_created, target, owner_id=user_id, scopes=scopes
        )
    return NewTokenOut(**TokenOut.model_validate(token).model_dump(), token=plain)


@router.get("/users/{user_id}/tokens", summary="List a user's tokens")
async def list_tokens(
    user_id: IdPath, principal: Admin, resources: Res, page: TokenPages
) -> Page[TokenOut]:
    """The user's tokens (never their secrets), with scopes, expiry, last use and status."""
    async with resources.session() as session:
        tokens = await service.list_tokens(session, principal.tenant_id, user_id, page=page)
        return page.answer(Page[TokenOut], tokens, key=by_id, item=TokenOut.model_validate)


@router.get("/tokens", summary="List the tenant's tokens")
async def list_tenant_tokens(
    principal: Admin,
    resources: Res,
    page: TokenPages,
    user_id: Annotated[DbId | None, Query(description="only this user's tokens")] = None,
) -> Page[TokenOut]:
    """The tenant's tokens (never their secrets), with scopes, expiry, last use and status."""
    async with resources.session() as session:
        tokens = await service.list_tenant_tokens(
            session, principal.tenant_id, user_id=user_id, page=page
        )
        return page.answer(Page[TokenOut], tokens, key=by_id, item=TokenOut.model_validate)


@router.delete("/tokens/{token_id}", summary="Revoke a token")
async def revoke_token(token_id: IdPath, principal: Admin, resources: Res) -> TokenOut:
    """Revoke a token: every API process refuses it (401) within a second. Revoking again
    is a no-op."""
    async with resources.session() as session:
        token = await service.revoke_token(session, principal.tenant_id, token_id)
        target = ("token", token.id)
        audit(session, principal, AuditAction.token_revoked, target, owner_id=token.user_id)
    resources.principals.forget_token(token.id)
    await publish_token_revoked(resources.redis, token.id)
    return TokenOut.model_validate(token)
