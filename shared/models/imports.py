from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ImportJob(IdMixin, TimestampMixin, Base):
    """A customer import: its payload, its progress and every rejected row (rule 3)."""

    __tablename__ = "import_jobs"
    # The list pages by id within the tenant, newest first (decision 026).
    __table_args__ = (Index("ix_import_jobs_tenant_page", "tenant_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assignments.id"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.queued)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    accepted_rows: Mapped[int] = mapped_column(default=0)
    rejected_rows: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
