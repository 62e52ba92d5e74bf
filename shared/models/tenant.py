from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    """The organisation that owns customer data (rule 1)."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    data_controller: Mapped[str] = mapped_column(String(300), default="")
    processing_purpose: Mapped[str] = mapped_column(String(1000), default="")
    # The country whose national phone numbers need no +code, and whose holidays apply to
    # customers without a country of their own (ISO 3166 alpha-2).
    region: Mapped[str] = mapped_column(String(2), default="NO")
    # How names sort in lists and exports ("nb": Æ, Ø, Å after Z; "fr"; "en").
    locale: Mapped[str] = mapped_column(String(10), default="nb")
    # Days nobody is called (ISO dates), besides public holidays (calling rules).
    closed_days: Mapped[list[Any]] = mapped_column(JSON, default=list)
