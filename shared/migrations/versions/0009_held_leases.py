"""held_leases: the leases Redis holds, copied by the worker, restored by a rebuild

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00

A new table only: nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_leases",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("assignment_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_held_leases")),
    )
    op.create_index("ix_held_leases_assignment", "held_leases", ["assignment_id"])


def downgrade() -> None:
    op.drop_index("ix_held_leases_assignment", table_name="held_leases")
    op.drop_table("held_leases")
