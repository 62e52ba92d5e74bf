"""calling rules, regions and locales; search names folded anew

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:00:00

Assignments get calling rules (JSON; None keeps their contact hours) and the option that lets
promised call-backs break them; tenants a region (phone numbers, default holidays), a locale
(sorting) and closed days; customers a country. Every new column is nullable or has a server
default, so existing rows keep their behaviour. Customers' search names are folded again,
since folding now treats "aa", "oe" like "å", "ø" (decision 029); a keyset walk in batches.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.customers.search import search_name

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calling_rules", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "callbacks_break_rules", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region", sa.String(length=2), nullable=False, server_default="NO")
        )
        batch_op.add_column(
            sa.Column("locale", sa.String(length=10), nullable=False, server_default="nb")
        )
        batch_op.add_column(
            sa.Column("closed_days", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    _refold_search_names()


def _refold_search_names() -> None:
    customers = sa.table(
        "customers",
        sa.column("id", sa.BigInteger()),
        sa.column("first_name", sa.String()),
        sa.column("last_name", sa.String()),
        sa.column("search_name", sa.String()),
    )
    bind = op.get_bind()
    update = (
        customers.update()
        .where(customers.c.id == sa.bindparam("cid"))
        .values(search_name=sa.bindparam("folded"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                customers.c.id,
                customers.c.first_name,
                customers.c.last_name,
                customers.c.search_name,
            )
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"cid": r.id, "folded": folded}
            for r in rows
            if (folded := search_name(r.first_name, r.last_name)) != r.search_name
        ]
        if changed:
            bind.execute(update, changed)
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("country")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("closed_days")
        batch_op.drop_column("locale")
        batch_op.drop_column("region")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("callbacks_break_rules")
        batch_op.drop_column("calling_rules")
