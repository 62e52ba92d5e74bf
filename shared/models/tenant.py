from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    """The organisation that owns customer data (rule 1)."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    data_controller: Mapped[str] = mapped_column(String(300), default="")
    processing_purpose: Mapped[str] = mapped_column(String(1000), default="")
