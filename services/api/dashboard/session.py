"""The dashboard's browser session: a bearer token exchanged for a signed cookie.

The cookie holds the token's hash (never the token), a per-session token against cross-site
request forgery and the time it was signed; it is HttpOnly (no script reads it), SameSite=Lax
(no other site's form or script sends it) and Secure in production. Every request looks the
hash up like a bearer token (services/api/deps.py), so a revoked token or a user switched off
ends the session at once, whatever the cookie's age.
"""

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.api.auth.cache import Principal
from services.api.deps import authenticate_hash
from services.api.errors import DomainError, Forbidden
from services.api.resources import Resources
from shared.infra.settings import Settings
from shared.models import Permission

COOKIE = "nextcall_dashboard"
# Before sign-in: the token the sign-in form must echo (login forgery), for a few minutes.
SIGN_IN_COOKIE = "nextcall_dashboard_sign_in"
SIGN_IN_MAX_AGE_S = 15 * 60
PATH = "/dashboard"
# Who sees the dashboard (issue 13: reporting, assignment setup or extended handling).
SUPERVISOR_PERMISSIONS = (
    Permission.reporting,
    Permission.assignment_setup,
    Permission.extended_handling,
)


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    csrf: str


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in supervisor: who, and the session's forgery token for the page's forms."""

    principal: Principal
    csrf: str

    def may(self, permission: Permission) -> bool:
        return self.principal.has(permission.value)


class NotSignedIn(DomainError):
    status_code = 401
    default_code = "not_signed_in"


def _signer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.session_secret.get_secret_value(), salt=purpose)


def is_supervisor(principal: Principal) -> bool:
    return any(principal.has(p.value) for p in SUPERVISOR_PERMISSIONS)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def same_token(sent: str | None, expected: str) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


def _set(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=settings.is_production(),
    )


def start(response: Response, settings: Settings, *, token_hash: str) -> None:
    """Sign the supervisor in: a fresh session with its own forgery token."""
    value = _signer(settings, "session").dumps({"h": token_hash, "c": new_csrf()})
    _set(response, settings, COOKIE, value, int(settings.session_hours * 3600))
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path=PATH)


def read(request: Request, settings: Settings) -> Session | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _signer(settings, "session").loads(raw, max_age=int(settings.session_hours * 3600))
    except BadSignature:  # also expired: SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or not isinstance(data.get("h"), str):
        return None
    return Session(token_hash=data["h"], csrf=str(data.get("c", "")))


async def viewer(request: Request, resources: Resources) -> Viewer:
    """The signed-in supervisor; NotSignedIn without a valid session, Forbidden without the
    permission (it may have been taken away since sign-in)."""
    session = read(request, resources.settings)
    if session is None:
        raise NotSignedIn("sign in to the dashboard")
    principal = await authenticate_hash(resources, session.token_hash)
    if not is_supervisor(principal):
        raise Forbidden("the dashboard is for reporting, assignment setup or extended handling")
    return Viewer(principal, session.csrf)


def offer_sign_in(response: Response, settings: Settings, token: str) -> None:
    """Set the short-lived cookie the sign-in form's forgery token must match."""
    value = _signer(settings, "sign-in").dumps(token)
    _set(response, settings, SIGN_IN_COOKIE, value, SIGN_IN_MAX_AGE_S)


def sign_in_form_ok(request: Request, settings: Settings, sent: str | None) -> bool:
    raw = request.cookies.get(SIGN_IN_COOKIE)
    if not raw:
        return False
    try:
        expected = _signer(settings, "sign-in").loads(raw, max_age=SIGN_IN_MAX_AGE_S)
    except BadSignature:
        return False
    return isinstance(expected, str) and same_token(sent, expected)
