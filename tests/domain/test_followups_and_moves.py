"""Follow-up changes (rule 23) and moves (rule 9)."""

from datetime import timedelta

import pytest

from shared.errors import Conflict, Forbidden, Unprocessable
from shared.membership.followups import change_follow_up, fall_back, require_change
from shared.membership.moves import move
from tests.domain.records import AGENT, COLLEAGUE, FLOW, NOW, STATES, record

DUE = NOW + timedelta(hours=1)


class TestChangeFollowUp:
    def test_a_change_names_a_time_or_an_owner(self) -> None:
        with pytest.raises(Unprocessable, match="give a new time"):
            require_change(None, None)
        require_change(NOW, None)  # enough

    def test_moves_your_personal_follow_up_to_a_colleague_at_a_new_time(self) -> None:
        before = record(
            state="interested", followup_kind="personal", followup_at=DUE, followup_owner_id=AGENT
        )
        later = NOW + timedelta(days=2)
        change = change_follow_up(
            before, at=later, owner_id=COLLEAGUE, user_id=AGENT, may_change_others=False
        )
        assert (change.record.followup_at, change.record.followup_owner_id) == (later, COLLEAGUE)
        assert change.record.version == before.version + 1
        assert change.event.kind == "followup_changed"
        assert (change.event.from_state, change.event.to_state) == ("interested", "interested")
        assert change.event.data == {
            "before": {"followup_at": DUE.isoformat(), "followup_owner_id": AGENT},
            "after": {"followup_at": later.isoformat(), "followup_owner_id": COLLEAGUE},
        }

    def test_a_shared_follow_up_changes_its_time_only(self) -> None:
        before = record(followup_kind="shared", followup_at=DUE)
        change = change_follow_up(
            before, at=NOW, owner_id=None, user_id=AGENT, may_change_others=False
        )
        assert (change.record.followup_kind, change.record.followup_at) == ("shared", NOW)
        with pytest.raises(Conflict, match="no owner to change"):
            change_follow_up(
                before, at=None, owner_id=COLLEAGUE, user_id=AGENT, may_change_others=True
            )

    def test_another_users_follow_up_needs_extended_handling(self) -> None:
        theirs = record(followup_kind="personal", followup_at=DUE, followup_owner_id=COLLEAGUE)
        with pytest.raises(Forbidden, match="extended_handling"):
            change_follow_up(theirs, at=NOW, owner_id=None, user_id=AGENT, may_change_others=False)
        change = change_follow_up(
            theirs, at=NOW, owner_id=None, user_id=AGENT, may_change_others=True
        )
        assert change.record.followup_owner_id == COLLEAGUE

    def test_nothing_to_change_without_a_follow_up(self) -> None:
        with pytest.raises(Conflict, match="no follow-up"):
            change_follow_up(record(), at=NOW, owner_id=None, user_id=AGENT, may_change_others=True)


class TestFallBack:
    @pytest.mark.parametrize("state", ["free", "interested"])
    def test_a_passed_personal_follow_up_becomes_shared_at_the_same_time(self, state: str) -> None:
        before = record(
            state=state, followup_kind="personal", followup_at=DUE, followup_owner_id=AGENT
        )
        change = fall_back(before, after_minutes=30)
        after = change.record
        assert (after.followup_kind, after.followup_at, after.followup_owner_id) == (
            "shared",
            DUE,
            None,
        )
        assert (after.state, after.version) == (state, before.version + 1)
        assert (change.event.kind, change.event.from_state, change.event.to_state) == (
            "followup_fell_back",
            state,
            state,
        )
        assert change.event.data == {
            "followup_at": DUE.isoformat(),
            "former_owner_id": AGENT,
            "after_minutes": 30,
        }


class TestMove:
    @pytest.mark.parametrize("state", STATES)
    def test_into_another_assignment_starts_afresh(self, state: str) -> None:
        before = record(
            state=state,
            attempts=4,
            last_attempt_at=NOW,
            followup_kind="personal",
            followup_at=DUE,
            followup_owner_id=AGENT,
            segment_id=3,
        )
        change = move(
            before,
            target_assignment_id=2,
            target_segment_id=None,
            initial_state=FLOW.initial_state,
            user_id=AGENT,
            now=NOW,
        )
        assert change is not None
        after = change.record
        assert (after.assignment_id, after.segment_id, after.state) == (2, None, "free")
        assert (after.state_set_by, after.state_set_by_user_id, after.state_set_at) == (
            "move",
            AGENT,
            NOW,
        )
        assert (after.attempts, after.last_attempt_at, after.followup_kind) == (0, None, None)
        assert (after.followup_at, after.followup_owner_id) == (None, None)
        assert (change.event.kind, change.event.to_state, change.event.from_state) == (
            "moved",
            "free",
            None,
        )
        assert change.event.data == {
            "from_assignment_id": 1,
            "to_assignment_id": 2,
            "from_state": state,
        }

    def test_within_the_assignment_only_the_segment_changes(self) -> None:
        before = record(state="interested", attempts=2, segment_id=None)
        change = move(
            before,
            target_assignment_id=1,
            target_segment_id=5,
            initial_state="free",
            user_id=AGENT,
            now=NOW,
        )
        assert change is not None
        assert change.record == record(
            state="interested", attempts=2, segment_id=5, version=before.version + 1
        )
        assert change.event.data == {"from_segment_id": None, "to_segment_id": 5}
        assert change.event.to_state == "interested"

    def test_already_there_is_no_move(self) -> None:
        here = record(segment_id=5)
        assert (
            move(
                here,
                target_assignment_id=1,
                target_segment_id=5,
                initial_state="free",
                user_id=AGENT,
                now=NOW,
            )
            is None
        )
