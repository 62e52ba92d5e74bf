"""/v1/assignments/{id}/imports and /v1/imports: customer imports (rule 3).

Assignment setup imports. Up to `import_inline_max_rows` rows are imported before the answer
(200); a larger file is stored and imported by the worker (202), and its progress is polled.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.api.customers import service
from services.api.customers.schemas import (
    DEFAULT_ERRORS_LIMIT,
    IMPORT_ERRORS,
    IMPORTS,
    MAX_ERRORS_LIMIT,
    ImportOut,
    ImportRowError,
    ImportSummary,
    rejected_page,
)
from services.api.deps import Res, Setup
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from services.api.ratelimit.deps import limited
from services.api.ratelimit.limiter import Expensive
from shared import importing

router = APIRouter(tags=["imports"])

_COLUMNS = (
    "Columns: external_id (required), first_name, last_name, phone_1, phone_2, phone_3 "
    "(or phone), email, language, time_zone, segment, and the tenant's custom field keys."
)
_ROW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["external_id"],
    "properties": {
        "external_id": {"type": "string", "maxLength": 200},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone_1": {"type": "string"},
        "phone_2": {"type": "string"},
        "phone_3": {"type": "string"},
        "phones": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "email": {"type": "string"},
        "language": {"type": "string"},
        "time_zone": {"type": "string"},
        "segment": {"type": "string"},
        "custom": {"type": "object"},
    },
    "additionalProperties": True,
}
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"The file, as a raw body or a multipart upload. {_COLUMNS}",
        "content": {
            "application/json": {
                "example": [
                    {
                        "external_id": "CRM-10042",
                        "first_name": "Ola",
                        "last_name": "Nordmann",
                        "phone_1": "+47 912 34 567",
                        "email": "ola@example.com",
                        "custom": {"score": 80},
                    }
                ],
                "schema": {
                    "oneOf": [
                        {"type": "array", "items": _ROW_SCHEMA},
                        {
                            "type": "object",
                            "required": ["rows"],
                            "properties": {"rows": {"type": "array", "items": _ROW_SCHEMA}},
                        },
                    ]
                },
            },
            "text/csv": {
                "example": "external_id,first_name,last_name,phone_1,score\n"
                "CRM-10042,Ola,Nordmann,+47 912 34 567,80\n",
                "schema": {"type": "string", "description": "a header row, then rows"},
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}

ErrorsLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_ERRORS_LIMIT,
        description="rejected rows shown at most; GET /v1/imports/{id}/errors pages on",
    ),
]
ImportPages = Annotated[PageRequest[IdKey], Depends(paging(IMPORTS))]
ErrorPages = Annotated[PageRequest[IdKey], Depends(paging(IMPORT_ERRORS))]


@router.post(
    "/assignments/{assignment_id}/imports",
    summary="Import customers",
    openapi_extra=_IMPORT_BODY,
    dependencies=[limited(Expensive.imports)],
    responses={
        202: {"model": ImportOut, "description": "Queued: poll GET /v1/imports/{id}."},
        404: {"description": "No such assignment in the caller's tenant."},
        415: {"description": "Neither JSON, CSV nor a multipart upload."},
        **refuses("a file that cannot be read (no external_id column, say)"),
    },
)
async def import_customers(
    assignment_id: IdPath,
    request: Request,
    response: Response,
    principal: Setup,
    resources: Res,
    errors_limit: ErrorsLimit = DEFAULT_ERRORS_LIMIT,
) -> ImportOut:
    """Import customers into the assignment, upserted by external id.

    Every rejected row is reported with its line and reason; good rows are always kept.
    Customers active in another assignment are not moved (their rows are rejected).
    """
    assignment = await service.tenant_assignment(resources, principal.tenant_id, assignment_id)
    file = await service.read_import_file(request)
    source = await service.open_import_file(file)
    rows = source.estimated_rows()
    if rows <= resources.settings.import_inline_max_rows:
        job = await service.import_inline(resources, principal, assignment, source)
    else:
        job = await service.import_later(resources, principal, assignment, file, rows=rows)
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Location"] = f"/v1/imports/{job.id}"
    return ImportOut.from_job(job, errors_limit=errors_limit)


@router.get("/imports", summary="List imports")
async def list_imports(principal: Setup, resources: Res, page: ImportPages) -> Page[ImportSummary]:
    """The tenant's imports, newest first, with their progress."""
    jobs = await service.list_imports(resources, principal.tenant_id, page=page)
    return page.answer(Page[ImportSummary], jobs, key=by_id, item=ImportSummary.of)


@router.get("/imports/{import_id}", summary="Get an import")
async def get_import(
    import_id: IdPath,
    principal: Setup,
    resources: Res,
    errors_limit: ErrorsLimit = DEFAULT_ERRORS_LIMIT,
) -> ImportOut:
    """An import's status and progress, with its first rejected rows."""
    job = await service.get_import(resources, principal.tenant_id, import_id)
    return ImportOut.from_job(job, errors_limit=errors_limit)


@router.get("/imports/{import_id}/errors")
async def import_errors(
    import_id: IdPath, principal: Setup, resources: Res, page: ErrorPages
) -> Page[ImportRowError]:
    """An import's rejected rows, in the order they were found, each with its line and why."""
    job = await service.get_import(resources, principal.tenant_id, import_id)
    return rejected_page(importing.rejected_rows_of(job), page)
