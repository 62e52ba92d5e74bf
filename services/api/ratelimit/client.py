"""Who a request comes from, as the rate limits count it."""

from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope


def bearer_token(scope: Scope) -> str | None:
    """The bearer token as FastAPI's HTTPBearer reads it (the first Authorization header)."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, credentials = get_authorization_scheme_param(value.decode("latin-1"))
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


def client_address(scope: Scope) -> str:
    """The client's address; behind a proxy, the one uvicorn's proxy headers name (trusted
    proxies only: uvicorn's --forwarded-allow-ips)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
