"""Attempts (rules 19-20) in every state of the demo flow."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Conflict, Unprocessable
from shared.flows import StateKind
from shared.membership.attempts import MIN_FOLLOWUP_RETRY, AttemptKind, register_attempt
from shared.models import CORRECTION_STATE
from tests.domain.records import AGENT, COLLEAGUE, FLOW, NOW, STATES, record

COOLDOWN_S = 60


@dataclass(frozen=True)
class Attempt:
    kind: AttemptKind
    at: datetime | None = None
    owner_id: int | None = None
    comment: str = ""


OPEN = [s for s in STATES if FLOW.kind_of(s) != StateKind.final]
FINAL = [s for s in STATES if FLOW.kind_of(s) == StateKind.final]


class TestNoAnswer:
    @pytest.mark.parametrize("state", OPEN)
    def test_counts_and_keeps_the_state(self, state: str) -> None:
        change = register_attempt(
            record(state=state, attempts=3, version=2),
            FLOW,
            Attempt(AttemptKind.no_answer, comment="voicemail"),
            user_id=AGENT,
            now=NOW,
            cooldown_seconds=COOLDOWN_S,
        )
        after = change.record
        assert (after.state, after.attempts, after.last_attempt_at, after.version) == (
            state,
            4,
            NOW,
            3,
        )
        assert after.followup_kind is None
        event = change.event
        assert (event.kind, event.code, event.from_state, event.to_state) == (
            "attempt",
            "no_answer",
            state,
            state,
        )
        assert (event.comment, event.data) == ("voicemail", {})

    def test_a_shared_follow_up_is_dropped(self) -> None:
        change = register_attempt(
            record(followup_kind="shared", followup_at=NOW + timedelta(hours=5)),
            FLOW,
            Attempt(AttemptKind.no_answer),
            user_id=AGENT,
            now=NOW,
            cooldown_seconds=COOLDOWN_S,
        )
        assert (change.record.followup_kind, change.record.followup_at) == (None, None)

    @pytest.mark.parametrize(
        ("cooldown_s", "pushed"),
        [(60, MIN_FOLLOWUP_RETRY), (3600, timedelta(hours=1))],
    )
    def test_a_personal_follow_up_is_pushed_by_the_cooldown_at_least_15_minutes(
        self, cooldown_s: int, pushed: timedelta
    ) -> None:
        due = NOW - timedelta(minutes=1)
        change = register_attempt(
            record(
                state="interested",
                followup_kind="personal",
                followup_at=due,
                followup_owner_id=COLLEAGUE,
            ),
            FLOW,
            Attempt(AttemptKind.no_answer),
            user_id=AGENT,
            now=NOW,
            cooldown_seconds=cooldown_s,
        )
        after = change.record
        assert (after.followup_kind, after.followup_at, after.followup_owner_id) == (
            "personal",
            NOW + pushed,
            COLLEAGUE,
        )
        assert change.event.data["followup_handled"] == {
            "due_at": due.isoformat(),
            "kind": "personal",
            "owner_id": COLLEAGUE,
            "kept": True,
        }


class TestCallBackLater:
    def test_a_free_customer_gets_a_shared_follow_up(self) -> None:
        at = NOW + timedelta(hours=3)
        change = register_attempt(
            record(state="free"),
            FLOW,
            Attempt(AttemptKind.call_back_later, at=at, owner_id=COLLEAGUE),
            user_id=AGENT,
            now=NOW,
            cooldown_seconds=COOLDOWN_S,
        )
        after = change.record
        assert (after.followup_kind, after.followup_at, after.followup_owner_id) == (
            "shared",
            at,
            None,
        )
        assert change.event.code == "call_back_later"
        assert change.event.data == {"followup_at": at.isoformat(), "followup_kind": "shared"}

    @pytest.mark.parametrize(("owner_id", "owner"), [(None, AGENT), (COLLEAGUE, COLLEAGUE)])
    def test_a_progressive_customer_gets_a_personal_follow_up(
        self, owner_id: int | None, owner: int
    ) -> None:
        at = NOW + timedelta(days=1)
        change = register_attempt(
            record(state="interested"),
            FLOW,
            Attempt(AttemptKind.call_back_later, at=at, owner_id=owner_id),
            user_id=AGENT,
            now=NOW,
            cooldown_seconds=COOLDOWN_S,
        )
        assert (change.record.followup_kind, change.record.followup_owner_id) == (
            "personal",
            owner,
        )
        assert change.event.data == {
            "followup_at": at.isoformat(),
            "followup_kind": "personal",
            "followup_owner_id": owner,
        }

    def test_needs_a_time(self) -> None:
        with pytest.raises(Unprocessable, match="needs a time"):
            register_attempt(
                record(),
                FLOW,
                Attempt(AttemptKind.call_back_later),
                user_id=AGENT,
                now=NOW,
                cooldown_seconds=COOLDOWN_S,
            )


class TestRefused:
    @pytest.mark.parametrize("state", FINAL)
    @pytest.mark.parametrize("kind", list(AttemptKind))
    def test_no_attempt_in_a_final_state(self, state: str, kind: AttemptKind) -> None:
        with pytest.raises(Conflict, match=f"final state '{state}'"):
            register_attempt(
                record(state=state),
                FLOW,
                Attempt(kind, at=NOW),
                user_id=AGENT,
                now=NOW,
                cooldown_seconds=COOLDOWN_S,
            )

    def test_no_attempt_while_waiting_for_a_correction(self) -> None:
        with pytest.raises(Conflict, match="waiting for a correction"):
            register_attempt(
                record(state=CORRECTION_STATE),
                FLOW,
                Attempt(AttemptKind.no_answer),
                user_id=AGENT,
                now=NOW,
                cooldown_seconds=COOLDOWN_S,
            )


@given(
    state=st.sampled_from(OPEN),
    attempts=st.integers(min_value=0, max_value=10_000),
    kind=st.sampled_from(list(AttemptKind)),
    hours=st.integers(min_value=-48, max_value=48),
)
def test_every_attempt_counts_once_and_bumps_the_version(
    state: str, attempts: int, kind: AttemptKind, hours: int
) -> None:
    before = record(state=state, attempts=attempts, version=9)
    change = register_attempt(
        before,
        FLOW,
        Attempt(kind, at=NOW + timedelta(hours=hours)),
        user_id=AGENT,
        now=NOW,
        cooldown_seconds=COOLDOWN_S,
    )
    assert (change.record.attempts, change.record.version) == (attempts + 1, 10)
    assert change.record.state == before.state == state
