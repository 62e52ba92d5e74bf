from datetime import datetime

from sqlalchemy import BigInteger, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, utcnow


class RetentionPolicy(IdMixin, Base):
    """Anonymise customers without activity for `months` (issue 15 point 5): the tenant's
    (`assignment_id` None) or one assignment's, which then applies to its customers instead."""

    __tablename__ = "retention_policies"
    __table_args__ = (
        Index(
            "ix_retention_policies_assignment",
            "tenant_id",
            "assignment_id",
            unique=True,
            postgresql_where=text("assignment_id IS NOT NULL"),
            sqlite_where=text("assignment_id IS NOT NULL"),
        ),
        Index(
            "ix_retention_policies_tenant",
            "tenant_id",
            unique=True,
            postgresql_where=text("assignment_id IS NULL"),
            sqlite_where=text("assignment_id IS NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger)
    assignment_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    months: Mapped[int]
    updated_by: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
