"""Reading the audit log: administrators page it newest first with filters, or export it."""

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.audit.schemas import AuditEntryOut, AuditFormat
from services.api.pagination import IdKey, Keyset
from services.api.reports import csv_out
from shared.audit import AuditAction, Category, actions_of
from shared.audit.actions import category_of
from shared.models import AuditEntry

ENTRIES: Keyset[IdKey] = Keyset("audit", IdKey)
EXPORT_BATCH = 1000
CSV_COLUMNS = (
    "id",
    "at",
    "user_id",
    "token_id",
    "action",
    "category",
    "target_type",
    "target_id",
    "data",
)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What an administrator narrows the log to; every part optional."""

    user_id: int | None = None
    action: AuditAction | None = None
    category: Category | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def conditions(self, tenant_id: int) -> list[ColumnElement[bool]]:
        found = [AuditEntry.tenant_id == tenant_id]
        if self.user_id is not None:
            found.append(AuditEntry.user_id == self.user_id)
        if self.action is not None:
            found.append(AuditEntry.action == self.action.value)
        if self.category is not None:
            found.append(AuditEntry.action.in_(actions_of(self.category)))
        if self.target_type is not None:
            found.append(AuditEntry.target_type == self.target_type)
        if self.target_id is not None:
            found.append(AuditEntry.target_id == self.target_id)
        if self.since is not None:
            found.append(AuditEntry.created_at >= self.since)
        if self.until is not None:
            found.append(AuditEntry.created_at < self.until)
        return found

    def query(self, tenant_id: int) -> Select[AuditEntry]:
        return select(AuditEntry).where(*self.conditions(tenant_id))


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    action = AuditAction(entry.action)
    return AuditEntryOut(
        id=entry.id,
        at=entry.created_at,
        user_id=entry.user_id,
        token_id=entry.token_id,
        action=action,
        category=category_of(action),
        target_type=entry.target_type,
        target_id=entry.target_id,
        data=entry.data or {},
    )


async def _batches(
    sessionmaker: async_sessionmaker[AsyncSession], tenant_id: int, where: AuditFilter
) -> AsyncIterator[Sequence[AuditEntry]]:
    """Oldest first, as the log was written; a session per batch, so no connection is held
    while the client reads."""
    after = 0
    while True:
        async with sessionmaker() as session:
            batch = (
                await session.scalars(
                    where.query(tenant_id)
                    .where(AuditEntry.id > after)
                    .order_by(AuditEntry.id)
                    .limit(EXPORT_BATCH)
                )
            ).all()
        if not batch:
            return
        after = batch[-1].id
        yield batch


def _csv_row(out: AuditEntryOut) -> list[Any]:
    row = out.model_dump(mode="json")
    row["data"] = json.dumps(row["data"], sort_keys=True, ensure_ascii=False)
    return [row[name] for name in CSV_COLUMNS]


async def export_lines(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: int,
    where: AuditFilter,
    fmt: AuditFormat,
    style: csv_out.CsvStyle,
) -> AsyncIterator[str]:
    if fmt == AuditFormat.csv:
        yield csv_out.start(style) + csv_out.line(CSV_COLUMNS, style)
    async for batch in _batches(sessionmaker, tenant_id, where):
        outs = [entry_out(e) for e in batch]
        if fmt == AuditFormat.csv:
            yield "".join(csv_out.line(_csv_row(out), style) for out in outs)
        else:
            yield "".join(out.model_dump_json() + "\n" for out in outs)
