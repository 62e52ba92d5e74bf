"""Dependencies, each defined once as an Annotated alias."""

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.auth.cache import Principal
from services.api.auth.tokens import load_principal
from services.api.errors import Forbidden, Unauthorized
from services.api.resources import Resources
from shared.infra.tokens import hash_token
from shared.models import Permission


async def get_resources(request: Request) -> Resources:
    # async: a plain def would be run in a worker thread on every request.
    resources: Resources = request.app.state.resources
    return resources


Res = Annotated[Resources, Depends(get_resources)]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer nc_...`")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_principal(request: Request, credentials: Credentials) -> Principal:
    return await authenticate(request.app.state.resources, credentials)


async def authenticate(
    resources: Resources, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    return await authenticate_token(resources, credentials.credentials if credentials else None)


async def authenticate_token(resources: Resources, token: str | None) -> Principal:
    """Who is asking: from the principal cache, else from the token's row."""
    if not token:
        raise Unauthorized("missing bearer token")
    return await authenticate_hash(resources, hash_token(token))


async def authenticate_hash(resources: Resources, token_hash: str) -> Principal:
    """Who holds the token of this hash (the dashboard's session keeps only the hash)."""
    principal = resources.principals.get(token_hash)
    if principal is not None:
        _bind(principal)
        return principal
    now = datetime.now(UTC)
    principal = await load_principal(resources.sessionmaker, token_hash, now=now)
    if principal is None:
        raise Unauthorized("invalid, expired or revoked token")
    resources.principals.put(token_hash, principal, now=now)
    _bind(principal)
    return principal


def _bind(principal: Principal) -> None:
    """Who asks, on every log line of this request (ids only: no names in logs)."""
    structlog.contextvars.bind_contextvars(tenant_id=principal.tenant_id, user_id=principal.user_id)


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> object:
    """A dependency that lets through only callers holding `permission` (or administrator).

    It authenticates by itself rather than through get_principal: every level of nested
    dependencies costs FastAPI a resolution on every request, /next included.
    """

    async def check(request: Request, credentials: Credentials) -> Principal:
        token = credentials.credentials if credentials else None
        return await authorize(request.app.state.resources, token, permission)

    return Depends(check)


async def authorize(resources: Resources, token: str | None, permission: Permission) -> Principal:
    """The caller of `token`, if it holds `permission` (or administrator)."""
    principal = await authenticate_token(resources, token)
    if not principal.has(permission.value):
        raise Forbidden(f"this needs the '{permission.value}' permission")
    return principal


Agent = Annotated[Principal, require(Permission.customer_handling)]
Setup = Annotated[Principal, require(Permission.assignment_setup)]
Admin = Annotated[Principal, require(Permission.administrator)]
Extended = Annotated[Principal, require(Permission.extended_handling)]
Reporting = Annotated[Principal, require(Permission.reporting)]
# A telephony system's machine token (the dialer boundary, decision 035).
Dialer = Annotated[Principal, require(Permission.dialer)]
