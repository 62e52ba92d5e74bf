"""audit_log (append-only) and retention_policies

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06 11:00:00

New tables only: nothing existing changes. The audit log refuses UPDATE and DELETE by a
trigger, on PostgreSQL and SQLite alike (decision 034). TRUNCATE is not refused: it needs
the table's owner, who could drop the trigger anyway, and the tests empty every table with it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSED = "audit_log is append-only"

_PG_FUNCTION = f"""
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSED}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
_PG_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("token_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target_type", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_tenant_page", "audit_log", ["tenant_id", "id"])
    op.create_index("ix_audit_log_tenant_user", "audit_log", ["tenant_id", "user_id", "id"])
    op.create_index("ix_audit_log_tenant_action", "audit_log", ["tenant_id", "action", "id"])
    op.create_index(
        "ix_audit_log_tenant_target", "audit_log", ["tenant_id", "target_type", "target_id", "id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END"
            )

    op.create_table(
        "retention_policies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("assignment_id", sa.BigInteger(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_policies")),
    )
    op.create_index(
        "ix_retention_policies_assignment",
        "retention_policies",
        ["tenant_id", "assignment_id"],
        unique=True,
        postgresql_where=sa.text("assignment_id IS NOT NULL"),
        sqlite_where=sa.text("assignment_id IS NOT NULL"),
    )
    op.create_index(
        "ix_retention_policies_tenant",
        "retention_policies",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("assignment_id IS NULL"),
        sqlite_where=sa.text("assignment_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_retention_policies_tenant", table_name="retention_policies")
    op.drop_index("ix_retention_policies_assignment", table_name="retention_policies")
    op.drop_table("retention_policies")
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
