"""Permission checks that accept any one of several bundles (DESIGN 3.8)."""

from typing import Annotated

from fastapi import Depends, Request

from services.api.auth.cache import Principal
from services.api.deps import Credentials, authenticate
from services.api.errors import Forbidden
from shared.models import Permission


def require_any(*permissions: Permission) -> object:
    """A dependency that lets through callers holding at least one of `permissions`.

    Administrators pass every check, as with deps.require.
    """
    names = " or ".join(f"'{p.value}'" for p in permissions)

    async def check(request: Request, credentials: Credentials) -> Principal:
        principal = await authenticate(request.app.state.resources, credentials)
        if not any(principal.has(p.value) for p in permissions):
            raise Forbidden(f"this needs the {names} permission")
        return principal

    return Depends(check)


# Reads of assignment configuration: whoever works or sets up assignments.
AssignmentReader = Annotated[
    Principal, require_any(Permission.customer_handling, Permission.assignment_setup)
]
# The tenant's blocklist: administrators and assignment setup.
BlocklistKeeper = Annotated[
    Principal, require_any(Permission.administrator, Permission.assignment_setup)
]
