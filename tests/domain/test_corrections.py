"""Corrections (rule 26): send, resolve, correct yourself."""

from datetime import timedelta

import pytest

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.membership import corrections
from shared.models import CORRECTION_STATE
from tests.domain.records import AGENT, COLLEAGUE, FLOW, FLOW_ROWS, NOW, Outcome, record

DUE = NOW + timedelta(hours=4)


class TestSendToCorrection:
    def test_parks_the_customer_and_keeps_the_dropped_follow_up_in_the_event(self) -> None:
        before = record(
            state="interested", followup_kind="personal", followup_at=DUE, followup_owner_id=AGENT
        )
        change = corrections.send_to_correction(
            before,
            correction_id=5,
            owner_user_id=COLLEAGUE,
            reason="wrong product",
            allowed=["sale"],
            user_id=AGENT,
            now=NOW,
        )
        after = change.record
        assert (after.state, after.state_set_by, after.state_set_by_user_id) == (
            CORRECTION_STATE,
            "correction",
            AGENT,
        )
        assert (after.followup_kind, after.followup_at, after.followup_owner_id) == (
            None,
            None,
            None,
        )
        assert (change.event.kind, change.event.from_state, change.event.to_state) == (
            "sent_to_correction",
            "interested",
            CORRECTION_STATE,
        )
        assert change.event.data == {
            "correction_id": 5,
            "owner_user_id": COLLEAGUE,
            "reason": "wrong product",
            "allowed_outcomes": ["sale"],
            "previous_state": "interested",
            "dropped_followup": {
                "followup_kind": "personal",
                "followup_at": DUE.isoformat(),
                "followup_owner_id": AGENT,
            },
        }

    def test_refused_twice_or_at_another_version(self) -> None:
        with pytest.raises(Conflict, match="in correction already"):
            corrections.may_send(record(state=CORRECTION_STATE), version=None)
        with pytest.raises(Conflict, match="version 1, you have 3"):
            corrections.may_send(record(), version=3)
        corrections.may_send(record(), version=1)

    def test_allowed_codes_once_each_and_only_the_flows(self) -> None:
        assert corrections.allowed_codes(FLOW, ["sale", "sale", "not_interested"]) == [
            "sale",
            "not_interested",
        ]
        with pytest.raises(Unprocessable, match="'maybe' does not exist") as refused:
            corrections.allowed_codes(FLOW, ["sale", "maybe"])
        assert refused.value.extra == {"unknown": ["maybe"]}


class TestResolve:
    @pytest.mark.parametrize(("code", "from_state", "to_state", "follow_up"), FLOW_ROWS)
    def test_the_owner_registers_an_outcome_from_the_state_before(
        self, code: str, from_state: str, to_state: str, follow_up: str
    ) -> None:
        parked = record(state=CORRECTION_STATE)
        change = corrections.resolve(
            parked,
            FLOW,
            Outcome(code, follow_up_at=DUE),
            correction_id=5,
            correction_assignment_id=1,
            previous_state=from_state,
            user_id=COLLEAGUE,
            now=NOW,
        )
        assert (change.record.state, change.record.state_set_by) == (to_state, "correction")
        assert (change.event.from_state, change.event.to_state) == (CORRECTION_STATE, to_state)
        assert change.event.data["correction_id"] == 5
        assert (change.record.followup_kind is not None) == (follow_up != "none")

    def test_a_customer_moved_away_no_longer_waits(self) -> None:
        with pytest.raises(Conflict, match="no longer waits"):
            corrections.resolve(
                record(state="free"),
                FLOW,
                Outcome("sale"),
                correction_id=5,
                correction_assignment_id=1,
                previous_state="free",
                user_id=COLLEAGUE,
                now=NOW,
            )

    def test_a_code_removed_from_the_flow_and_a_missing_time_are_refused(self) -> None:
        parked = record(state=CORRECTION_STATE)
        for outcome, message in [
            (Outcome("gone"), "no longer in the flow"),
            (Outcome("interested"), "needs a follow-up time"),
        ]:
            with pytest.raises(Unprocessable, match=message):
                corrections.resolve(
                    parked,
                    FLOW,
                    outcome,
                    correction_id=5,
                    correction_assignment_id=1,
                    previous_state="free",
                    user_id=COLLEAGUE,
                    now=NOW,
                )


class TestSelfCorrection:
    @pytest.mark.parametrize(("code", "from_state", "to_state", "follow_up"), FLOW_ROWS)
    def test_any_row_replaces_an_outcome_registered_from_its_state(
        self, code: str, from_state: str, to_state: str, follow_up: str
    ) -> None:
        outcome = corrections.self_correction_outcome(FLOW, code, from_state=from_state)
        changed, event = corrections.self_correct(
            record(state="not_interested"),
            outcome,
            Outcome(code, follow_up_at=DUE),
            corrected_event_id=40,
            from_state=from_state,
            user_id=AGENT,
            now=NOW,
        )
        assert changed is not None and changed.state == to_state
        assert (event.from_state, event.to_state, event.code) == (from_state, to_state, code)
        assert event.data["correction_of"] == 40

    def test_a_later_change_keeps_the_state_and_corrects_the_record_only(self) -> None:
        outcome = corrections.self_correction_outcome(FLOW, "sale", from_state="free")
        changed, event = corrections.self_correct(
            None,
            outcome,
            Outcome("sale"),
            corrected_event_id=40,
            from_state="free",
            user_id=AGENT,
            now=NOW,
        )
        assert changed is None
        assert event.data == {"correction_of": 40}

    def test_only_an_outcome_not_corrected_yet(self) -> None:
        with pytest.raises(Unprocessable, match="not an outcome"):
            corrections.may_correct(40, kind="attempt", assignment_id=1, corrected_by_event_id=None)
        with pytest.raises(Conflict, match="corrected already by event 41"):
            corrections.may_correct(40, kind="outcome", assignment_id=1, corrected_by_event_id=41)

    def test_by_an_outcome_allowed_where_the_old_one_was_registered(self) -> None:
        with pytest.raises(Unprocessable, match="not allowed from state 'interested'"):
            corrections.self_correction_outcome(FLOW, "interested", from_state="interested")
        with pytest.raises(Unprocessable, match="unknown outcome"):
            corrections.self_correction_outcome(FLOW, "maybe", from_state="free")
        # A resolution from "@correction" was not bound by from-states; nor is its correction.
        outcome = corrections.self_correction_outcome(
            FLOW, "interested", from_state=CORRECTION_STATE
        )
        assert outcome.to_state == "interested"


class TestMayResolve:
    def _resolve(
        self, *, user_id: int = COLLEAGUE, resolved: bool = False, code: str = "sale"
    ) -> None:
        corrections.may_resolve(
            5,
            owner_user_id=COLLEAGUE,
            resolved_at=NOW if resolved else None,
            allowed_outcomes=["sale"],
            user_id=user_id,
            code=code,
        )

    def test_only_the_owner_once_with_an_allowed_outcome(self) -> None:
        self._resolve()
        with pytest.raises(Forbidden, match="only the user the correction was sent to"):
            self._resolve(user_id=AGENT)
        with pytest.raises(Conflict, match="correction 5 is resolved already"):
            self._resolve(resolved=True)
        with pytest.raises(Unprocessable, match="not one of the allowed outcomes") as refused:
            self._resolve(code="not_interested")
        assert refused.value.extra == {"allowed_outcomes": ["sale"]}
