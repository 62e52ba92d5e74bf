"""/dashboard: the supervisors' pages, their live updates and their two actions.

HTML pages answer errors as pages (sign-in form, 403, 404); the live stream and the CSV
answer them as the API does. Every POST carries the session's forgery token.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from services.api.dashboard import pages, session
from services.api.dashboard.activity import outcomes_by_hour
from services.api.dashboard.chart import hourly_bars
from services.api.dashboard.queue_figures import zone
from services.api.dashboard.service import (
    assignment_view,
    overview,
    visible_assignment,
)
from services.api.dashboard.session import NotSignedIn, Viewer
from services.api.deps import Res, authenticate_token
from services.api.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized
from services.api.fields import IdPath
from services.api.live.events import EventStreamResponse, StreamHub
from services.api.live.router import TooManyStreams
from services.api.reports.schemas import ActivityParams, ReportFormat
from services.api.reports.service import activity_report
from services.api.resources import Resources
from services.api.work.leases import release
from shared.infra.tokens import hash_token
from shared.models import Permission

router = APIRouter(prefix="/dashboard", include_in_schema=False)

# How often an open page gets fresh figures: a change in Redis shows within this plus the
# memo's LIVE_S (under a second in all), inside the 2 s issue 13 asks for with room to spare.
TICK_S = 0.5
# With nothing new, a comment line this often keeps proxies from closing the stream.
KEEPALIVE_S = 15.0
# How soon a browser reconnects after the stream broke.
RETRY_MS = 2000
TokenField = Annotated[str, Form(max_length=200)]
CsrfField = Annotated[str, Form(max_length=100)]


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _sign_in_page(
    request: Request, res: Resources, *, error: str = "", status: int = 200
) -> Response:
    csrf = session.new_csrf()
    response = pages.page(
        request, "sign_in.html", None, status_code=status, error=error, sign_in_csrf=csrf
    )
    session.offer_sign_in(response, res.settings, csrf)
    return response


async def _viewer_or_page(request: Request, res: Resources) -> Viewer | Response:
    try:
        return await session.viewer(request, res)
    except (NotSignedIn, Unauthorized):
        return _sign_in_page(request, res)
    except Forbidden as exc:
        return pages.page(request, "error.html", None, status_code=403, message=exc.message)


def _error_page(request: Request, viewer: Viewer, exc: DomainError) -> Response:
    return pages.page(
        request, "error.html", viewer, status_code=exc.status_code, message=exc.message
    )


@router.get("")
async def dashboard(request: Request, res: Res) -> Response:
    found = await _viewer_or_page(request, res)
    if not isinstance(found, Viewer):
        return found
    figures = await overview(res, found.principal)
    notice = request.query_params.get("notice")
    return pages.page(
        request, "overview.html", found, notice=notice, **pages.overview_context(figures)
    )


@router.post("/sign-in")
async def sign_in(request: Request, res: Res, token: TokenField, csrf: CsrfField) -> Response:
    if not session.sign_in_form_ok(request, res.settings, csrf):
        return _sign_in_page(request, res, error="The form had expired: try again.", status=403)
    try:
        principal = await authenticate_token(res, token.strip())
    except Unauthorized:
        return _sign_in_page(request, res, error="Unknown or revoked token.", status=401)
    if not session.is_supervisor(principal):
        message = "The dashboard is for reporting, assignment setup or extended handling."
        return pages.page(request, "error.html", None, status_code=403, message=message)
    response = _see_other("/dashboard")
    session.start(response, res.settings, token_hash=hash_token(token.strip()))
    return response


@router.post("/sign-out")
async def sign_out(request: Request, res: Res, csrf: CsrfField) -> Response:
    current = session.read(request, res.settings)
    if current is None or not session.same_token(csrf, current.csrf):
        raise Forbidden("invalid form token", code="csrf")
    response = _see_other("/dashboard")
    session.end(response)
    return response


@router.get("/assignments/{assignment_id}")
async def assignment_page(assignment_id: IdPath, request: Request, res: Res) -> Response:
    found = await _viewer_or_page(request, res)
    if not isinstance(found, Viewer):
        return found
    try:
        assignment = await visible_assignment(res, found.principal, assignment_id)
    except NotFound as exc:
        return _error_page(request, found, exc)
    view = await assignment_view(res, assignment)
    now = datetime.now(UTC)
    async with res.sessionmaker() as db:
        day_start, counts = await outcomes_by_hour(
            db, tenant_id=assignment.tenant_id, assignment_id=assignment.id, tz=view.tz, now=now
        )
    chart = hourly_bars(counts, day_start=day_start, tz=view.tz)
    return pages.page(
        request, "assignment.html", found, a=view, chart=chart, at=now, day=day_start.date()
    )


@router.get("/assignments/{assignment_id}/activity.csv")
async def activity_csv(assignment_id: IdPath, request: Request, res: Res) -> Response:
    """Today's activity report of the assignment per agent (the reports service's CSV)."""
    viewer = await session.viewer(request, res)
    if not viewer.may(Permission.reporting):
        raise Forbidden("the activity report needs the 'reporting' permission")
    assignment = await visible_assignment(res, viewer.principal, assignment_id)
    tz = assignment.default_time_zone
    today = datetime.now(UTC).astimezone(zone(tz)).date()
    params = ActivityParams(
        first_day=today,
        last_day=today,
        group_by="user",
        tz=tz,
        assignment_id=assignment.id,
        team=None,
        user_id=None,
    )
    return await activity_report(res, viewer.principal, params, ReportFormat.csv)


@router.post("/customers/{customer_id}/force-release")
async def force_release(
    customer_id: IdPath,
    request: Request,
    res: Res,
    csrf: CsrfField,
    back: Annotated[str, Form(max_length=200)] = "/dashboard",
) -> Response:
    viewer = await session.viewer(request, res)
    if not session.same_token(csrf, viewer.csrf):
        raise Forbidden("invalid form token", code="csrf")
    if not viewer.may(Permission.extended_handling):
        raise Forbidden("force release needs the 'extended_handling' permission")
    # Back to a dashboard page only: never an open redirect.
    target = back if back.startswith("/dashboard") and "//" not in back else "/dashboard"
    try:
        await release(res, viewer.principal, customer_id, lease_id="", force=True)
    except Conflict:
        return _see_other(f"{target}?notice=not-held")
    return _see_other(f"{target}?notice=released")


async def _updates(
    request: Request, res: Resources, hub: StreamHub, assignment_id: int | None
) -> AsyncIterator[str]:
    """The page's live part, re-rendered each tick and sent when it changed."""
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    sent = ""
    quiet = 0.0
    while True:
        try:
            viewer = await session.viewer(request, res)
            html = await _live_html(res, viewer, assignment_id)
        except (NotSignedIn, Unauthorized, Forbidden, NotFound):
            yield "event: signed_out\ndata: {}\n\n"
            return
        if html != sent:
            sent, quiet = html, 0.0
            yield f"event: update\ndata: {json.dumps({'html': html})}\n\n"
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(TICK_S)
        quiet += TICK_S


async def _live_html(res: Resources, viewer: Viewer, assignment_id: int | None) -> str:
    if assignment_id is None:
        figures = await overview(res, viewer.principal)
        return pages.fragment("live_overview.html", viewer, **pages.overview_context(figures))
    assignment = await visible_assignment(res, viewer.principal, assignment_id)
    view = await assignment_view(res, assignment)
    return pages.fragment("live_assignment.html", viewer, a=view, at=datetime.now(UTC))


@router.get("/live")
async def live(
    request: Request,
    res: Res,
    assignment_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    """Server-sent events: `update` with the page's live part as HTML, `signed_out` when the
    session ended."""
    viewer = await session.viewer(request, res)
    if assignment_id is not None:
        await visible_assignment(res, viewer.principal, assignment_id)
    hub = res.streams
    if not hub.acquire():
        raise TooManyStreams("too many open event streams on this server; retry shortly")
    return EventStreamResponse(_updates(request, res, hub, assignment_id), hub=hub)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    media_type = pages.STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no static file {name}")
    return FileResponse(
        pages.STATIC / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=300"},
    )
