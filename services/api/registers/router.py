"""/v1/registers: the tenant's do-not-call registers and their extracts (rule 34).

Administrators and assignment setup. An extract is imported by the worker (202; poll the
import); its numbers replace the register's in one commit, and the tenant's queues are
rebuilt after it. A register whose extract is older than its policy stops every assignment
of the tenant from dialling, with the reason in /next's empty answer.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from services.api.access import BlocklistKeeper
from services.api.audit.recording import audit, audit_now
from services.api.customers.service import UnsupportedMediaType, read_import_file
from services.api.deps import Res
from services.api.errors import refuses
from services.api.fields import IdPath
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging
from services.api.registers import service
from services.api.registers.schemas import RegisterCreate, RegisterImportOut, RegisterOut
from shared.audit import AuditAction
from shared.importing import ImportFormat
from shared.infra.clock import utc_now

router = APIRouter(tags=["do-not-call registers"])

RegisterPages = Annotated[PageRequest[IdKey], Depends(paging(service.REGISTERS))]
ExtractDate = Annotated[date, Query(description="the date the register's owner made the extract")]

_EXTRACT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The extract: one number a line, or CSV with the number in the first "
        "column (a first line without digits is a header). National numbers are read in the "
        "tenant's region.",
        "content": {
            # text/plain is read the same; the schema names CSV only, which clients generate.
            "text/csv": {"schema": {"type": "string"}, "example": "phone\n+4722334455\n"},
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


@router.get("/registers", summary="List do-not-call registers")
async def list_registers(
    principal: BlocklistKeeper, resources: Res, page: RegisterPages
) -> Page[RegisterOut]:
    """The tenant's registers in the order they were created, each saying whether it is stale."""
    today = utc_now().date()
    async with resources.session() as session:
        rows = await service.list_registers(session, principal.tenant_id, page=page)
        return page.answer(
            Page[RegisterOut], rows, key=by_id, item=lambda r: service.register_out(r, today)
        )


@router.post(
    "/registers",
    summary="Create a do-not-call register",
    status_code=status.HTTP_201_CREATED,
    responses=refuses("a name already taken (409)"),
)
async def create_register(
    body: RegisterCreate, principal: BlocklistKeeper, resources: Res
) -> RegisterOut:
    """A register without an extract stops dialling until its first import commits."""
    async with resources.session() as session:
        register = await service.create(
            session, principal.tenant_id, body, user_id=principal.user_id
        )
        audit(session, principal, AuditAction.register_created, ("register", register.id))
    resources.assignments.forget_tenant(principal.tenant_id)
    return service.register_out(register, utc_now().date())


@router.delete("/registers/{register_id}", summary="Delete a do-not-call register")
async def delete_register(
    register_id: IdPath, principal: BlocklistKeeper, resources: Res
) -> RegisterOut:
    """The register and its numbers; the worker rebuilds the tenant's queues after it."""
    async with resources.session() as session:
        register = await service.remove(session, principal.tenant_id, register_id)
        audit(session, principal, AuditAction.register_deleted, ("register", register_id))
    resources.assignments.forget_tenant(principal.tenant_id)
    await service.rebuild_later(resources, principal.tenant_id)
    return service.register_out(register, utc_now().date())


@router.post(
    "/registers/{register_id}/imports",
    summary="Import a register's extract",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_EXTRACT_BODY,
    responses={
        415: {"description": "Neither plain text, CSV nor a multipart upload."},
        **refuses("an extract dated in the future, an empty file"),
    },
)
async def import_extract(
    register_id: IdPath,
    extract_date: ExtractDate,
    request: Request,
    response: Response,
    principal: BlocklistKeeper,
    resources: Res,
) -> RegisterImportOut:
    """Queue the extract: it replaces the register's numbers when the import commits."""
    file = await read_import_file(request)
    if file.format != ImportFormat.csv:
        raise UnsupportedMediaType("send the extract as text/plain, text/csv or multipart")
    job = await service.import_later(
        resources,
        tenant_id=principal.tenant_id,
        register_id=register_id,
        user_id=principal.user_id,
        extract_date=extract_date,
        payload=file.payload,
    )
    await audit_now(
        resources,
        principal,
        AuditAction.register_imported,
        ("register", register_id),
        import_id=job.id,
    )
    response.headers["Location"] = f"/v1/registers/{register_id}/imports/{job.id}"
    return RegisterImportOut.model_validate(job)


@router.get("/registers/{register_id}/imports/{import_id}", summary="Get an extract's import")
async def get_register_import(
    register_id: IdPath, import_id: IdPath, principal: BlocklistKeeper, resources: Res
) -> RegisterImportOut:
    """Its progress while it runs, its rejected lines when done."""
    async with resources.session() as session:
        job = await service.get_import(session, principal.tenant_id, register_id, import_id)
        return RegisterImportOut.model_validate(job)
