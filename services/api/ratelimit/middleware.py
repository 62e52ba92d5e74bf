"""Failed authentications, limited per client address and per token, as plain ASGI in front
of everything (the hot paths included, which skip FastAPI's routing).

A request whose token this process already knows (its principal cache) passes untouched: the
hot path pays a hash and a dict look-up, no Redis. Any other request under /v1 is first checked
against the failure budgets (one Redis call each), and a 401 answer counts one failure.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.errors import TooManyRequests, error_response
from services.api.ratelimit.client import bearer_token, client_address
from services.api.resources import Resources
from shared.infra.tokens import hash_token


class AuthFailureLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        resources: Resources = scope["app"].state.resources
        token = bearer_token(scope)
        token_hash = hash_token(token) if token else None
        if token_hash is not None and resources.principals.get(token_hash) is not None:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        try:
            await resources.limiter.auth_refused(address=address, token_hash=token_hash)
        except TooManyRequests as exc:
            response = error_response(exc)
            assert response is not None
            await response(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            await resources.limiter.auth_failed(address=address, token_hash=token_hash)
