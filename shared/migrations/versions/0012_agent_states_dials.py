"""agent states, their history, dials; an assignment's abandon cap

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06 11:00:00

New tables, and one column with a default on assignments: nothing existing changes. The
presentation mode "progressive" needs no change: the column is a string.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "assignments",
        sa.Column("abandon_cap", sa.Float(), nullable=False, server_default="0.03"),
    )
    op.create_table(
        "agent_states",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assignment_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("dial_id", sa.String(length=100), nullable=True),
        sa.Column("since", _TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_states_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_states")),
    )
    op.create_index("ix_agent_states_tenant_id", "agent_states", ["tenant_id"])
    op.create_index("ix_agent_states_assignment_state", "agent_states", ["assignment_id", "state"])
    op.create_table(
        "agent_state_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assignment_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_changes")),
    )
    op.create_index("ix_agent_state_changes_tenant_id", "agent_state_changes", ["tenant_id"])
    op.create_index("ix_agent_state_changes_user_at", "agent_state_changes", ["user_id", "at"])
    op.create_table(
        "dials",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("dial_id", sa.String(length=100), nullable=False),
        sa.Column("assignment_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("dialer_user_id", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("ring_seconds", sa.Float(), nullable=True),
        sa.Column("reported_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dials")),
        sa.UniqueConstraint("tenant_id", "dial_id", name=op.f("uq_dials_tenant_id_dial_id")),
    )
    op.create_index("ix_dials_assignment_reported", "dials", ["assignment_id", "reported_at"])
    op.create_index("ix_dials_customer_reported", "dials", ["customer_id", "reported_at"])


def downgrade() -> None:
    op.drop_table("dials")
    op.drop_table("agent_state_changes")
    op.drop_table("agent_states")
    op.drop_column("assignments", "abandon_cap")
