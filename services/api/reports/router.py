"""/v1/reports/activity and /v1/assignments/{id}/status-export (reporting permission)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from services.api.deps import Reporting, Res
from services.api.fields import DbId, IdPath
from services.api.ratelimit.deps import limited
from services.api.ratelimit.limiter import Expensive
from services.api.reports import service
from services.api.reports.csv_out import CsvStyle
from services.api.reports.schemas import ActivityParams, ActivityReportOut, ReportFormat
from services.api.reports.status_export import status_export

router = APIRouter(tags=["reports"])

CsvStyleQuery = Annotated[
    CsvStyle,
    Query(
        description="excel: semicolons and a UTF-8 byte order mark, as Excel in Norwegian "
        "or French reads them"
    ),
]
_CSV = {"text/csv": {"schema": {"type": "string", "description": "a header row, then rows"}}}


@router.get(
    "/reports/activity",
    response_model=ActivityReportOut,
    dependencies=[limited(Expensive.exports)],
    responses={200: {"content": _CSV}},
)
async def activity(
    resources: Res,
    user: Reporting,
    first_day: Annotated[date, Query(alias="from", description="first day, inclusive")],
    last_day: Annotated[date, Query(alias="to", description="last day, inclusive")],
    group_by: Annotated[
        str, Query(max_length=100, description="comma list of assignment, team, user, day")
    ] = "user,day",
    tz: Annotated[str, Query(max_length=64, description="the zone days are counted in")] = "UTC",
    assignment_id: Annotated[DbId | None, Query()] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    user_id: Annotated[DbId | None, Query()] = None,
    format: Annotated[ReportFormat, Query()] = ReportFormat.json,
    csv_style: CsvStyleQuery = CsvStyle.plain,
) -> Response:
    """Outcomes, attempts, sales, products and follow-ups per group (rule 29), counted for
    the re-attributed user and time, without excluded or corrected events (rules 26-27).
    Money only for callers with the revenue permission."""
    params = ActivityParams(
        first_day=first_day,
        last_day=last_day,
        group_by=group_by,
        tz=tz,
        assignment_id=assignment_id,
        team=team,
        user_id=user_id,
    )
    return await service.activity_report(resources, user, params, format, csv_style)


@router.get(
    "/assignments/{assignment_id}/status-export",
    dependencies=[limited(Expensive.exports)],
    responses={200: {"content": {**_CSV, "application/json": {}}}},
)
async def export_status(
    assignment_id: IdPath,
    resources: Res,
    user: Reporting,
    format: Annotated[ReportFormat, Query()] = ReportFormat.csv,
    csv_style: CsvStyleQuery = CsvStyle.plain,
) -> StreamingResponse:
    """One row per customer of the assignment: CRM fields, state, last change, segment,
    follow-up, products and the next meeting; streamed."""
    return await status_export(resources, user, assignment_id, format, csv_style)
