"""The record is the one declaration: the table, the API schema and the write agree with it."""

from typing import cast

from sqlalchemy import Table

from services.api.work.schemas import MembershipOut
from shared.membership.record import COLUMNS, SHOWN_COLUMNS, STATE_COLUMNS
from shared.membership.statements import UPDATE
from shared.models import Membership

# Row bookkeeping the domain never reads.
BOOKKEEPING = {"created_at"}


def test_the_record_has_every_column_of_the_table() -> None:
    table = cast(Table, Membership.__table__)
    assert {c.name for c in table.columns} - BOOKKEEPING == set(COLUMNS)


def test_the_api_shows_the_record_without_its_keys_and_with_the_states_kind() -> None:
    assert list(MembershipOut.model_fields) == [
        *SHOWN_COLUMNS[: SHOWN_COLUMNS.index("state") + 1],
        "state_kind",
        *SHOWN_COLUMNS[SHOWN_COLUMNS.index("state") + 1 :],
    ]
    assert not {"id", "tenant_id", "customer_id"} & set(MembershipOut.model_fields)


def test_the_versioned_write_sets_the_state_columns_and_the_version() -> None:
    compiled = UPDATE.compile()
    assert set(compiled.params) >= {f"m_{name}" for name in STATE_COLUMNS}
    assert set(STATE_COLUMNS) == set(COLUMNS) - {
        "id",
        "tenant_id",
        "customer_id",
        "assignment_id",
        "segment_id",
        "version",
    }
