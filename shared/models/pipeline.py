"""The care pipeline's tables (DESIGN 3.7, seeds 000-002; docs/decisions/028-care-pipeline.md).

Contacts and prospects are customers (rule 4: one person, one profile); a request names its
prospect and, when someone calls for them, its contact person. The relationship manager is a
user; who acts for them during an absence is resolved from the delegations when read
(shared/pipeline/delegation.py), so nothing here changes when a delegation starts or ends.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class PipelineService(IdMixin, TimestampMixin, Base):
    """An entry of the tenant's catalogue: a stay, a service or a product, offered by a
    department in a region ("Home nursing", "Home care", "Antwerp")."""

    __tablename__ = "pipeline_services"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "region"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    # Name, department and region folded (shared.customers.search.fold): what the colleague
    # search ("home nursing Antwerp") matches.
    search_text: Mapped[str] = mapped_column(String(700), default="")
    active: Mapped[bool] = mapped_column(default=True)


class PipelineServiceMember(IdMixin, Base):
    """A colleague who works in a catalogue service: found by "service + region"."""

    __tablename__ = "pipeline_service_members"
    __table_args__ = (UniqueConstraint("service_id", "user_id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)
    service_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pipeline_services.id"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)


class PipelineRequest(IdMixin, TimestampMixin, Base):
    """A request for a stay, a service or a product (rule 30), owned by its relationship
    manager (rule 31)."""

    __tablename__ = "pipeline_requests"
    __table_args__ = (
        Index("ix_pipeline_requests_tenant_manager", "tenant_id", "manager_id", "status"),
        Index("ix_pipeline_requests_tenant_status", "tenant_id", "status"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    kind: Mapped[str] = mapped_column(String(20))
    service_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("pipeline_services.id"), default=None
    )
    status: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(4000), default="")
    prospect_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id"), default=None, index=True
    )
    # What the contact person is to the prospect (a Relation code), when there is one.
    relation: Mapped[str | None] = mapped_column(String(40), default=None)
    # "prospect" or "contact" (a DecisionMaker code).
    decision_maker: Mapped[str] = mapped_column(String(20))
    registered_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    manager_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PipelineRequestEvent(IdMixin, Base):
    """A request's history (rule 25 for the pipeline): who, when, what changed. Appended only."""

    __tablename__ = "pipeline_request_events"
    __table_args__ = (Index("ix_pipeline_request_events_request", "request_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, index=True)
    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pipeline_requests.id"))
    user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str] = mapped_column(String(30))
    # {field: {"old": ..., "new": ...}}, or what was added (a task's id, a contact's id).
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PipelineTask(IdMixin, TimestampMixin, Base):
    """Work on a request, done by a task executor (rule 32)."""

    __tablename__ = "pipeline_tasks"
    __table_args__ = (
        Index("ix_pipeline_tasks_tenant_executor", "tenant_id", "executor_id", "status"),
        Index("ix_pipeline_tasks_request", "request_id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    request_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pipeline_requests.id"))
    title: Mapped[str] = mapped_column(String(300))
    executor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    notes: Mapped[str] = mapped_column(String(4000), default="")
    created_by_id: Mapped[int] = mapped_column(BigInteger)
    # The task this one follows up, on the same request.
    follows_task_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PipelineDelegation(IdMixin, TimestampMixin, Base):
    """A manager's requests handled by a colleague from `starts_at` until `ends_at`
    (an absence). Never flipped by a job: read as "active at now" wherever a manager is
    resolved, so it starts and ends by itself."""

    __tablename__ = "pipeline_delegations"
    __table_args__ = (Index("ix_pipeline_delegations_tenant_ends", "tenant_id", "ends_at"),)

    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"))
    from_user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(BigInteger)
    # Ended early (back sooner than planned); kept for the record.
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
