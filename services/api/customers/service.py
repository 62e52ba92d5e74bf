"""Customer imports: reading the uploaded file, running small imports inline and handing
large ones to the worker (rule 3)."""

import asyncio
import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from fastapi import Request
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm import defer
from starlette.datastructures import UploadFile

from services.api.assignments.service import place_customers
from services.api.auth.cache import Principal
from services.api.customers.enqueue import enqueue_import
from services.api.errors import ApiError, NotFound, Unprocessable
from services.api.pagination import IdKey, PageRequest
from services.api.resources import Resources
from services.queue.broadcast import publish_eligible
from shared import importing
from shared.importing import ImportFormat, ImportSource
from shared.models import Assignment, ImportJob, ImportStatus

# What a request body may be, by media type; multipart uploads say it by their file's type.
JSON_TYPES = frozenset({"application/json", "text/json"})
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"})
MULTIPART = "multipart/form-data"
FILE_FIELD = "file"


class UnsupportedMediaType(ApiError):
    status_code = 415
    default_code = "unsupported_media_type"


class ServiceUnavailable(ApiError):
    status_code = 503
    default_code = "service_unavailable"


@dataclass(frozen=True, slots=True)
class ImportFile:
    payload: bytes
    format: ImportFormat


async def read_import_file(request: Request) -> ImportFile:
    """The file of the request: the raw JSON or CSV body, or the multipart field `file`."""
    media_type, charset = _media_type(request.headers.get("content-type", ""))
    if media_type == MULTIPART:
        return await _read_upload(request)
    if media_type in JSON_TYPES or media_type.endswith("+json"):
        fmt = ImportFormat.json
    elif media_type in CSV_TYPES:
        fmt = ImportFormat.csv
    else:
        raise UnsupportedMediaType(
            "send the file as application/json, text/csv or multipart/form-data (field 'file')"
        )
    payload = _as_utf8(await request.body(), charset)
    if not payload.strip():
        raise Unprocessable("the request has no file")
    return ImportFile(payload, fmt)


async def _read_upload(request: Request) -> ImportFile:
    try:
        form = await request.form()
    except Exception as exc:  # python-multipart's parse errors have no common base
        raise Unprocessable(f"unreadable multipart body: {exc}") from exc
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            raise Unprocessable(f"the multipart body has no file field '{FILE_FIELD}'")
        media_type, charset = _media_type(upload.content_type or "")
        payload = _as_utf8(await upload.read(), charset)
    finally:
        await form.close()
    if not payload.strip():
        raise Unprocessable("the uploaded file is empty")
    suffix = PurePath(upload.filename or "").suffix.lower()
    if media_type in JSON_TYPES or media_type.endswith("+json") or suffix == ".json":
        fmt = ImportFormat.json
    elif media_type in CSV_TYPES or suffix in (".csv", ".txt", ".tsv"):
        fmt = ImportFormat.csv
    else:
        # A file without a telling type or name: JSON starts with a list or an object.
        fmt = ImportFormat.json if payload.lstrip()[:1] in (b"[", b"{") else ImportFormat.csv
    return ImportFile(payload, fmt)


def _media_type(header: str) -> tuple[str, str | None]:
    media_type, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return media_type.strip().lower(), charset


def _as_utf8(payload: bytes, charset: str | None) -> bytes:
    """Files are read as UTF-8; one declared in another charset (a spreadsheet's Windows-1252,
    say) is converted first."""
    if charset is None:
        return payload
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        raise UnsupportedMediaType(f"unknown charset '{charset}'") from None
    if codec.name == "utf-8":
        return payload
    try:
        return payload.decode(codec.name).encode("utf-8")
    except UnicodeError as exc:
        raise Unprocessable(f"the file is not valid {charset}: {exc}") from None


async def open_import_file(file: ImportFile) -> ImportSource:
    """The file, read far enough to know it can be imported; 422 if it cannot."""
    try:
        return await asyncio.to_thread(importing.open_source, file.payload, file.format)
    except importing.ImportFileError as exc:
        raise Unprocessable(str(exc)) from None


async def tenant_assignment(resources: Resources, tenant_id: int, assignment_id: int) -> Assignment:
    async with resources.sessionmaker() as session:
        assignment = await session.scalar(
            select(Assignment).where(
                Assignment.id == assignment_id, Assignment.tenant_id == tenant_id
            )
        )
    if assignment is None:
        raise NotFound(f"assignment {assignment_id} not found")
    return assignment


async def import_inline(
    resources: Resources, principal: Principal, assignment: Assignment, source: ImportSource
) -> ImportJob:
    """Run the whole import now, placing each committed batch in the queue."""
    async with resources.session() as session:
        job = ImportJob(
            tenant_id=principal.tenant_id,
            assignment_id=assignment.id,
            user_id=principal.user_id,
            format=source.format.value,
            status=ImportStatus.running,
            total_rows=source.estimated_rows(),
        )
        session.add(job)

    async def place(customer_ids: list[int]) -> None:
        async with resources.sessionmaker() as session:
            await place_customers(session, resources.redis, assignment, customer_ids=customer_ids)
        await publish_eligible(resources.redis, assignment.id)

    await importing.run_import(
        resources.sessionmaker, job.id, source=source, on_batch_committed=place
    )
    # The import may have created segments.
    resources.assignments.forget(assignment.id)
    return await get_import(resources, principal.tenant_id, job.id)


async def import_later(
    resources: Resources,
    principal: Principal,
    assignment: Assignment,
    file: ImportFile,
    *,
    rows: int,
) -> ImportJob:
    """Store the file and queue the worker's job, after the commit (the job reads the row)."""
    async with resources.session() as session:
        job = ImportJob(
            tenant_id=principal.tenant_id,
            assignment_id=assignment.id,
            user_id=principal.user_id,
            format=file.format.value,
            status=ImportStatus.queued,
            total_rows=rows,
            payload=file.payload,
        )
        session.add(job)
    try:
        await asyncio.to_thread(enqueue_import, resources.settings, job.id)
    except RedisError as exc:
        async with resources.session() as session:
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == job.id)
                .values(
                    status=ImportStatus.failed,
                    errors=[{"failure": "the import could not be queued; send it again"}],
                )
            )
        raise ServiceUnavailable("the import could not be queued; try again shortly") from exc
    return job


async def list_imports(
    resources: Resources, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[ImportJob]:
    """The tenant's imports, newest first, without their rejected rows (a list of them may be
    long)."""
    query = (
        select(ImportJob)
        .where(ImportJob.tenant_id == tenant_id)
        .options(defer(ImportJob.errors, raiseload=True))
    )
    async with resources.sessionmaker() as session:
        return (await session.scalars(page.window(query, ImportJob.id, descending=True))).all()


async def get_import(resources: Resources, tenant_id: int, import_id: int) -> ImportJob:
    """One import of the tenant (404 for any other, rule 1)."""
    async with resources.sessionmaker() as session:
        job = await session.scalar(
            select(ImportJob).where(ImportJob.id == import_id, ImportJob.tenant_id == tenant_id)
        )
    if job is None:
        raise NotFound(f"import {import_id} not found")
    return job
