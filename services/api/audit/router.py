"""/v1/audit-log: who read, searched and changed what (administrators; decision 034)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from services.api.audit import service
from services.api.audit.schemas import AuditFormat, AuditPage
from services.api.deps import Admin, Res
from services.api.fields import DbId
from services.api.pagination import IdKey, PageRequest, by_id, paging
from services.api.ratelimit.deps import limited
from services.api.ratelimit.limiter import Expensive
from services.api.reports.csv_out import CsvStyle
from shared.audit import AuditAction, Category
from shared.models import AuditEntry

router = APIRouter(tags=["audit"])

AuditPages = Annotated[PageRequest[IdKey], Depends(paging(service.ENTRIES))]


def audit_filter(
    user_id: Annotated[DbId | None, Query(description="only what this user did")] = None,
    action: Annotated[AuditAction | None, Query(description="only this action")] = None,
    category: Annotated[
        Category | None,
        Query(description="access (reads), change, or privacy (the privacy log)"),
    ] = None,
    target_type: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=30,
            pattern=r"^[a-z_]+$",
            description="only entries about this kind of thing (customer, user, token, flow...)",
        ),
    ] = None,
    target_id: Annotated[DbId | None, Query(description="only entries about this id")] = None,
    since: Annotated[AwareDatetime | None, Query(description="from this time, inclusive")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before this time")] = None,
) -> service.AuditFilter:
    return service.AuditFilter(
        user_id=user_id,
        action=action,
        category=category,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )


Filter = Annotated[service.AuditFilter, Depends(audit_filter)]


@router.get("/audit-log", summary="Read the audit log", response_model=AuditPage)
async def audit_log(admin: Admin, resources: Res, where: Filter, page: AuditPages) -> AuditPage:
    """Reads of customer details and history, full searches, changes to users, permissions,
    tokens, flows, assignments and the blocklist, and the privacy log (exports,
    anonymisations, retention), newest first. Entries are never changed or deleted."""
    async with resources.sessionmaker() as session:
        query = page.window(where.query(admin.tenant_id), AuditEntry.id, descending=True)
        rows = list(await session.scalars(query))
    return page.answer(AuditPage, rows, key=by_id, item=service.entry_out)


_EXPORT_CONTENT = {
    "text/csv": {
        "schema": {"type": "string", "description": "a header row, then one entry a row"},
        "example": "id,at,user_id,token_id,action,category,target_type,target_id,data\n"
        "5120,2026-12-06T10:15:00Z,7,12,customer.read,access,customer,1042,{}\n",
    },
    "application/x-ndjson": {
        "schema": {"type": "string", "description": "one JSON object a line"},
        "example": '{"id":5120,"at":"2026-12-06T10:15:00Z","user_id":7,"token_id":12,'
        '"action":"customer.read","category":"access","target_type":"customer",'
        '"target_id":1042,"data":{}}\n',
    },
}
_MEDIA = {AuditFormat.csv: "text/csv; charset=utf-8", AuditFormat.jsonl: "application/x-ndjson"}


@router.get(
    "/audit-log/export",
    summary="Export the audit log",
    dependencies=[limited(Expensive.exports)],
    response_class=StreamingResponse,
    responses={200: {"content": _EXPORT_CONTENT}},
)
async def export_audit_log(
    admin: Admin,
    resources: Res,
    where: Filter,
    format: Annotated[AuditFormat, Query()] = AuditFormat.jsonl,
    csv_style: Annotated[CsvStyle, Query(description="excel: semicolons and a BOM")] = (
        CsvStyle.plain
    ),
) -> StreamingResponse:
    """The entries the filters select, oldest first, streamed as JSON lines or CSV."""
    lines = service.export_lines(resources.sessionmaker, admin.tenant_id, where, format, csv_style)
    name = f"audit-log.{'csv' if format == AuditFormat.csv else 'jsonl'}"
    return StreamingResponse(
        lines,
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
