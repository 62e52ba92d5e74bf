"""lists page by (tenant_id, id): indexes for the keyset order of the long lists

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 08:00:00

Every list of the API pages by a keyset (decision 026). These lists can grow long within one
tenant (a do-not-call register, years of imports and bulk jobs, thousands of users and
tokens): an index on (tenant_id, id) reads a page without sorting the tenant's rows. The
other lists already have one (events by customer) or stay short (flows, assignments, custom
fields, segments).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "users": "ix_users_tenant_page",
    "api_tokens": "ix_api_tokens_tenant_page",
    "blocked_phones": "ix_blocked_phones_tenant_page",
    "import_jobs": "ix_import_jobs_tenant_page",
    "bulk_jobs": "ix_bulk_jobs_tenant_page",
}


def upgrade() -> None:
    for table, name in INDEXES.items():
        op.create_index(name, table, ["tenant_id", "id"], unique=False)


def downgrade() -> None:
    for table, name in INDEXES.items():
        op.drop_index(name, table_name=table)
