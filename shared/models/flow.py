from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, IdMixin, TimestampMixin


class Flow(IdMixin, TimestampMixin, Base):
    """A customer flow (rule 7): its states and outcomes, validated by shared.flows.FlowSpec.

    States and outcomes live in JSON: a flow is a small document that is read whole and cached,
    never queried by its parts.
    """

    __tablename__ = "flows"

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    states: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
