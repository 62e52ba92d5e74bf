"""Outcomes (rules 7, 21, 28): every row of the demo flow's table, and what is refused."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Unprocessable
from shared.membership.outcomes import bulk_outcome, register_outcome
from shared.models import CORRECTION_STATE
from tests.domain.records import AGENT, COLLEAGUE, FLOW, FLOW_ROWS, NOW, STATES, Outcome, record


class TestRegisterOutcome:
    @pytest.mark.parametrize(("code", "from_state", "to_state", "follow_up"), FLOW_ROWS)
    def test_every_row_of_the_flow_moves_the_state(
        self, code: str, from_state: str, to_state: str, follow_up: str
    ) -> None:
        at = NOW + timedelta(days=1)
        before = record(state=from_state, attempts=2, version=4)
        change = register_outcome(
            before, FLOW, Outcome(code, follow_up_at=at), user_id=AGENT, now=NOW
        )
        after = change.record
        assert (after.state, after.state_set_by, after.state_set_by_user_id) == (
            to_state,
            "user",
            AGENT,
        )
        assert (after.state_set_at, after.attempts, after.version) == (NOW, 2, 5)
        expected_kind = follow_up if follow_up != "none" else None
        assert after.followup_kind == expected_kind
        assert after.followup_at == (at if expected_kind else None)
        assert after.followup_owner_id == (AGENT if follow_up == "personal" else None)
        event = change.event
        assert (event.kind, event.code, event.from_state, event.to_state) == (
            "outcome",
            code,
            from_state,
            to_state,
        )
        if expected_kind:
            assert event.data == {
                "followup_kind": expected_kind,
                "followup_at": at.isoformat(),
                "followup_owner_id": after.followup_owner_id,
            }
        else:
            assert event.data == {}

    @pytest.mark.parametrize(
        ("code", "state"),
        [
            (code, state)
            for code in {row[0] for row in FLOW_ROWS}
            for state in [*STATES, CORRECTION_STATE]
            if (code, state) not in {(row[0], row[1]) for row in FLOW_ROWS}
        ],
    )
    def test_an_outcome_from_a_state_the_flow_does_not_allow_is_refused(
        self, code: str, state: str
    ) -> None:
        with pytest.raises(Unprocessable, match="is not allowed from state"):
            register_outcome(
                record(state=state),
                FLOW,
                Outcome(code, follow_up_at=NOW),
                user_id=AGENT,
                now=NOW,
            )

    def test_an_unknown_outcome_is_refused(self) -> None:
        with pytest.raises(Unprocessable, match="unknown outcome 'maybe'"):
            register_outcome(record(), FLOW, Outcome("maybe"), user_id=AGENT, now=NOW)

    def test_a_required_follow_up_time_is_required(self) -> None:
        with pytest.raises(Unprocessable, match="needs a follow-up time"):
            register_outcome(record(), FLOW, Outcome("interested"), user_id=AGENT, now=NOW)

    def test_a_personal_follow_up_goes_to_the_chosen_colleague(self) -> None:
        at = NOW + timedelta(hours=2)
        change = register_outcome(
            record(),
            FLOW,
            Outcome("interested", follow_up_at=at, follow_up_owner_id=COLLEAGUE),
            user_id=AGENT,
            now=NOW,
        )
        assert (change.record.followup_kind, change.record.followup_owner_id) == (
            "personal",
            COLLEAGUE,
        )

    def test_the_event_records_the_fields_and_the_follow_up_it_handled(self) -> None:
        due = NOW - timedelta(minutes=5)
        before = record(
            state="interested",
            followup_kind="personal",
            followup_at=due,
            followup_owner_id=AGENT,
        )
        change = register_outcome(
            before,
            FLOW,
            Outcome("sale", comment="signed", fields={"plan": "gold"}),
            user_id=AGENT,
            now=NOW,
        )
        assert change.event.comment == "signed"
        assert change.event.data == {
            "fields": {"plan": "gold"},
            "followup_handled": {
                "due_at": due.isoformat(),
                "kind": "personal",
                "owner_id": AGENT,
                "kept": True,
            },
        }
        assert change.record.followup_kind is None

    @given(
        row=st.sampled_from(FLOW_ROWS),
        attempts=st.integers(min_value=0, max_value=1000),
        version=st.integers(min_value=1, max_value=10**6),
        segment_id=st.none() | st.integers(min_value=1, max_value=10**6),
    )
    def test_an_outcome_keeps_who_and_where_and_bumps_the_version(
        self, row: tuple[str, str, str, str], attempts: int, version: int, segment_id: int | None
    ) -> None:
        code, from_state, _, _ = row
        before = record(state=from_state, attempts=attempts, version=version, segment_id=segment_id)
        after = register_outcome(
            before, FLOW, Outcome(code, follow_up_at=NOW), user_id=AGENT, now=NOW
        ).record
        assert (after.id, after.tenant_id, after.customer_id) == (11, 1, 101)
        assert (after.assignment_id, after.segment_id, after.attempts) == (1, segment_id, attempts)
        assert after.version == version + 1
        assert before.state == from_state  # the rule never changes its input


class TestBulkOutcome:
    @pytest.mark.parametrize(("code", "from_state", "to_state", "follow_up"), FLOW_ROWS)
    def test_every_row_applies_in_bulk_set_by_bulk(
        self, code: str, from_state: str, to_state: str, follow_up: str
    ) -> None:
        at = NOW + timedelta(days=2)
        change = bulk_outcome(
            record(state=from_state),
            FLOW,
            code,
            user_id=AGENT,
            now=NOW,
            follow_up_at=at,
            comment="campaign closed",
            event_data={"bulk": True},
            set_by="bulk",
        )
        assert (change.record.state, change.record.state_set_by) == (to_state, "bulk")
        assert change.event.comment == "campaign closed"
        assert change.event.data["bulk"] is True
        assert ("followup_kind" in change.event.data) == (follow_up != "none")

    def test_a_customer_whose_state_refuses_it_stops_the_bulk(self) -> None:
        with pytest.raises(Unprocessable, match="nothing was written") as refused:
            bulk_outcome(
                record(state="sale"),
                FLOW,
                "interested",
                user_id=AGENT,
                now=NOW,
                follow_up_at=None,
                comment="",
                event_data={},
                set_by="bulk",
            )
        assert refused.value.extra == {"states": ["sale"]}
