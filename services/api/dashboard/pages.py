"""The dashboard's HTML: Jinja2 templates packaged with the code, autoescaped."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from services.api.dashboard.service import AssignmentView, Overview
from services.api.dashboard.session import Viewer
from shared.models import Permission

HERE = Path(__file__).parent
STATIC = HERE / "static"
# Served from /dashboard/static/<name>: only these (no directory listing, no other file).
STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}

# The pages load nothing but /dashboard/static, open no connection but their own stream, and
# post forms only to themselves.
CONTENT_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

templates = Jinja2Templates(directory=HERE / "templates")


def duration(since_ms: int | None, at: datetime) -> str:
    """ "under 1 min", "4 min", "1 h 05 min" from `since_ms` to `at`; "" when unknown.

    Whole minutes, so the live part's HTML changes once a minute, not every second (the page
    sends it only when it changed); static/dashboard.js writes the same text as time passes.
    """
    if since_ms is None:
        return ""
    seconds = max(0, int(at.timestamp() - since_ms / 1000))
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours} h {rest // 60:02d} min"
    return f"{rest // 60} min" if rest >= 60 else "under 1 min"


def local_time(moment: datetime | None, view: AssignmentView | None = None) -> str:
    if moment is None:
        return ""
    tz = view.tz if view is not None else UTC
    return moment.astimezone(tz).strftime("%H:%M:%S")


templates.env.filters["duration"] = duration
templates.env.globals["local_time"] = local_time


def _base(viewer: Viewer | None) -> dict[str, Any]:
    if viewer is None:
        return {"viewer": None}
    return {
        "viewer": viewer,
        "csrf": viewer.csrf,
        "can_release": viewer.may(Permission.extended_handling),
        "can_export": viewer.may(Permission.reporting),
    }


def page(
    request: Request,
    name: str,
    viewer: Viewer | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    response = templates.TemplateResponse(
        request, name, {**_base(viewer), **context}, status_code=status_code
    )
    # Figures of one tenant: never kept by a shared cache, never shown from history stale.
    response.headers["Cache-Control"] = "no-store"
    # Only our own files run here, and no other site may frame the page (its buttons act).
    response.headers["Content-Security-Policy"] = CONTENT_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    return response


def fragment(name: str, viewer: Viewer, **context: Any) -> str:
    """The live part of a page, as the page itself renders it (one template for both)."""
    return templates.get_template(name).render({**_base(viewer), **context})


def overview_context(overview: Overview) -> dict[str, Any]:
    return {"overview": overview, "at": overview.at}
