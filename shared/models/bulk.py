from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class BulkKind(StrEnum):
    move = "move"
    outcome = "outcome"


class BulkStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class BulkJob(IdMixin, TimestampMixin, Base):
    """A bulk action on a selection (a move, an outcome), run by the worker with progress."""

    __tablename__ = "bulk_jobs"
    # The list pages by id within the tenant, newest first (decision 026).
    __table_args__ = (Index("ix_bulk_jobs_tenant_page", "tenant_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default=BulkStatus.queued)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    succeeded: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
