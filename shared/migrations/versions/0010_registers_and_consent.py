"""do-not-call registers, consent, blocklist who and until when

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:00:00

New tables for registers (their numbers and imports) and consent history; blocked phones get
who blocked them and an optional expiry; assignments the register exemption and whether
consent is required; customers the phone consent in force. Every new column is nullable or
has a server default, so existing rows keep their behaviour (decision 033).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registers",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=False),
        sa.Column("extract_date", sa.Date(), nullable=True),
        sa.Column("numbers", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_registers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registers")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_registers_tenant_id_name")),
    )
    op.create_index("ix_registers_tenant_page", "registers", ["tenant_id", "id"])
    op.create_table(
        "register_numbers",
        sa.Column("register_id", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("register_id", "phone", name=op.f("pk_register_numbers")),
    )
    op.create_index("ix_register_numbers_tenant_phone", "register_numbers", ["tenant_id", "phone"])
    op.create_table(
        "register_imports",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("register_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("extract_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("accepted_rows", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_register_imports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_imports")),
    )
    op.create_index("ix_register_imports_register", "register_imports", ["register_id", "id"])
    op.create_table(
        "consents",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", _BigId, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_consents_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consents_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_customer", "consents", ["customer_id", "id"])
    with op.batch_alter_table("blocked_phones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("register_exempt_field", sa.String(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column("consent_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_consent", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("phone_consent")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("consent_required")
        batch_op.drop_column("register_exempt_field")
    with op.batch_alter_table("blocked_phones", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("blocked_by")
    op.drop_index("ix_consents_customer", table_name="consents")
    op.drop_table("consents")
    op.drop_index("ix_register_imports_register", table_name="register_imports")
    op.drop_table("register_imports")
    op.drop_index("ix_register_numbers_tenant_phone", table_name="register_numbers")
    op.drop_table("register_numbers")
    op.drop_index("ix_registers_tenant_page", table_name="registers")
    op.drop_table("registers")
