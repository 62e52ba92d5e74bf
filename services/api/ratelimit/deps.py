"""The expensive endpoints' budgets as a route dependency: `dependencies=[limited(...)]`."""

from fastapi import Request, params

from services.api.ratelimit.client import bearer_token, client_address
from services.api.ratelimit.limiter import Expensive
from services.api.resources import Resources
from shared.infra.tokens import hash_token


def limited(kind: Expensive) -> params.Depends:
    """Count the request against `kind`'s budget per token and the address's budget; 429
    with Retry-After past either."""

    async def spend(request: Request) -> None:
        resources: Resources = request.app.state.resources
        token = bearer_token(request.scope)
        await resources.limiter.spend(
            kind,
            address=client_address(request.scope),
            token_hash=hash_token(token) if token else None,
        )

    return params.Depends(spend)
