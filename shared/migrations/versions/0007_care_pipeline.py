"""care pipeline: catalogue, requests and their history, tasks, delegations; users' language

Revision ID: 0007
Revises: 0006

The care pipeline of DESIGN 3.7 (docs/decisions/028-care-pipeline.md). New tables only, and
one nullable column on users: existing rows are untouched.
Create Date: 2026-12-06 08:05:43.939035
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pipeline_services",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.String(length=700), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pipeline_services_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_services")),
        sa.UniqueConstraint(
            "tenant_id", "name", "region", name=op.f("uq_pipeline_services_tenant_id_name_region")
        ),
    )
    with op.batch_alter_table("pipeline_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_services_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "pipeline_delegations",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("from_user_id", sa.BigInteger(), nullable=False),
        sa.Column("to_user_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["users.id"], name=op.f("fk_pipeline_delegations_from_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pipeline_delegations_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["users.id"], name=op.f("fk_pipeline_delegations_to_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_delegations")),
    )
    with op.batch_alter_table("pipeline_delegations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pipeline_delegations_tenant_ends", ["tenant_id", "ends_at"], unique=False
        )

    op.create_table(
        "pipeline_requests",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column(
            "prospect_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("relation", sa.String(length=40), nullable=True),
        sa.Column("decision_maker", sa.String(length=20), nullable=False),
        sa.Column("registered_by_id", sa.BigInteger(), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["customers.id"], name=op.f("fk_pipeline_requests_contact_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["users.id"], name=op.f("fk_pipeline_requests_manager_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["prospect_id"],
            ["customers.id"],
            name=op.f("fk_pipeline_requests_prospect_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"],
            ["users.id"],
            name=op.f("fk_pipeline_requests_registered_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["pipeline_services.id"],
            name=op.f("fk_pipeline_requests_service_id_pipeline_services"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pipeline_requests_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_requests")),
    )
    with op.batch_alter_table("pipeline_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_requests_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pipeline_requests_prospect_id"), ["prospect_id"], unique=False
        )
        batch_op.create_index(
            "ix_pipeline_requests_tenant_manager",
            ["tenant_id", "manager_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_pipeline_requests_tenant_status", ["tenant_id", "status"], unique=False
        )

    op.create_table(
        "pipeline_service_members",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["pipeline_services.id"],
            name=op.f("fk_pipeline_service_members_service_id_pipeline_services"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pipeline_service_members_tenant_id_tenants"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pipeline_service_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_service_members")),
        sa.UniqueConstraint(
            "service_id", "user_id", name=op.f("uq_pipeline_service_members_service_id_user_id")
        ),
    )
    with op.batch_alter_table("pipeline_service_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pipeline_service_members_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pipeline_service_members_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "pipeline_request_events",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["pipeline_requests.id"],
            name=op.f("fk_pipeline_request_events_request_id_pipeline_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_request_events")),
    )
    with op.batch_alter_table("pipeline_request_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pipeline_request_events_request", ["request_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pipeline_request_events_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "pipeline_tasks",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("executor_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.String(length=4000), nullable=False),
        sa.Column("created_by_id", sa.BigInteger(), nullable=False),
        sa.Column("follows_task_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["executor_id"], ["users.id"], name=op.f("fk_pipeline_tasks_executor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["pipeline_requests.id"],
            name=op.f("fk_pipeline_tasks_request_id_pipeline_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_pipeline_tasks_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_tasks")),
    )
    with op.batch_alter_table("pipeline_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_pipeline_tasks_request", ["request_id"], unique=False)
        batch_op.create_index(
            "ix_pipeline_tasks_tenant_executor",
            ["tenant_id", "executor_id", "status"],
            unique=False,
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("pipeline_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_tasks_tenant_executor")
        batch_op.drop_index("ix_pipeline_tasks_request")

    op.drop_table("pipeline_tasks")
    with op.batch_alter_table("pipeline_request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_request_events_tenant_id"))
        batch_op.drop_index("ix_pipeline_request_events_request")

    op.drop_table("pipeline_request_events")
    with op.batch_alter_table("pipeline_service_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_service_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_pipeline_service_members_tenant_id"))

    op.drop_table("pipeline_service_members")
    with op.batch_alter_table("pipeline_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_requests_tenant_status")
        batch_op.drop_index("ix_pipeline_requests_tenant_manager")
        batch_op.drop_index(batch_op.f("ix_pipeline_requests_prospect_id"))
        batch_op.drop_index(batch_op.f("ix_pipeline_requests_contact_id"))

    op.drop_table("pipeline_requests")
    with op.batch_alter_table("pipeline_delegations", schema=None) as batch_op:
        batch_op.drop_index("ix_pipeline_delegations_tenant_ends")

    op.drop_table("pipeline_delegations")
    with op.batch_alter_table("pipeline_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_services_tenant_id"))

    op.drop_table("pipeline_services")
