"""/v1/reports/activity and /v1/assignments/{id}/status-export (reporting permission)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from services.api.deps import Reporting, Res
from services.api.errors import refuses
from services.api.fields import DbId, IdPath, TimeZone
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
_STATUS_CSV = {
    "text/csv": {
        **_CSV["text/csv"],
        "example": "customer_id,external_id,first_name,last_name,phone_1,phone_2,phone_3,email,"
        "language,time_zone,account_type,city,anonymised_at,state,state_name,state_set_by,"
        "state_set_by_user_id,state_set_at,segment_id,segment,attempts,last_attempt_at,"
        "followup_at,followup_kind,followup_owner_id,products,next_meeting_at\n"
        "1042,CRM-10042,Ola,Nordmann,+4791234567,,,ola@example.com,nb,Europe/Oslo,private,"
        "Oslo,,follow_up,Sale to follow up,user,7,2026-12-05T09:31:00Z,,,2,"
        "2026-12-04T13:00:00Z,2027-03-01T08:30:00Z,personal,7,,\n",
    }
}


@router.get(
    "/reports/activity",
    summary="Activity report",
    response_model=ActivityReportOut,
    dependencies=[limited(Expensive.exports)],
    responses={
        200: {"content": _CSV},
        **refuses("`to` before `from`, more than 366 days, or an unknown `group_by` name"),
    },
)
async def activity(
    resources: Res,
    user: Reporting,
    first_day: Annotated[date, Query(alias="from", description="first day, inclusive")],
    last_day: Annotated[date, Query(alias="to", description="last day, inclusive")],
    group_by: Annotated[
        str, Query(max_length=100, description="comma list of assignment, team, user, day")
    ] = "user,day",
    tz: Annotated[TimeZone, Query(description="the zone days are counted in")] = "UTC",
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
    summary="Status export",
    dependencies=[limited(Expensive.exports)],
    responses={200: {"content": {**_STATUS_CSV, "application/json": {}}}},
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
