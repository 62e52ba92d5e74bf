"""The care pipeline's pure rules: status moves, who manages a request during delegations,
duplicate profiles, the caller's language and the labels."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Conflict
from shared.pipeline import labels
from shared.pipeline.codes import RequestStatus, TaskStatus
from shared.pipeline.delegation import Window, acting_for, acting_manager, active_at
from shared.pipeline.duplicates import Profile, likely_duplicate
from shared.pipeline.languages import choose, from_accept_language
from shared.pipeline.statuses import is_overdue, request_status_after, task_status_after

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class TestStatuses:
    def test_a_request_moves_forward_and_back_from_an_offer(self) -> None:
        assert request_status_after("new", RequestStatus.in_progress) == RequestStatus.in_progress
        assert request_status_after("offer_made", RequestStatus.in_progress) == "in_progress"
        assert request_status_after("won", RequestStatus.closed) == RequestStatus.closed

    @pytest.mark.parametrize(
        ("current", "wanted"),
        [("new", RequestStatus.won), ("closed", RequestStatus.new), ("lost", RequestStatus.won)],
    )
    def test_a_request_refuses_a_move_the_rules_do_not_allow(
        self, current: str, wanted: RequestStatus
    ) -> None:
        with pytest.raises(Conflict) as refused:
            request_status_after(current, wanted)
        assert refused.value.code == "status_not_allowed"
        assert wanted.value not in refused.value.extra["allowed"]

    def test_a_task_may_be_reopened_until_it_is_closed(self) -> None:
        assert task_status_after("done", TaskStatus.in_progress) == TaskStatus.in_progress
        with pytest.raises(Conflict):
            task_status_after("closed", TaskStatus.open)

    def test_overdue_means_past_due_and_unfinished(self) -> None:
        assert is_overdue("open", T0 - HOUR, T0)
        assert not is_overdue("done", T0 - HOUR, T0)
        assert not is_overdue("open", T0 + HOUR, T0)
        assert not is_overdue("in_progress", None, T0)


class TestDelegation:
    ANN, BOB, CAT = 1, 2, 3

    def test_a_delegation_holds_only_inside_its_window(self) -> None:
        window = [Window(self.ANN, self.BOB, T0, T0 + 2 * HOUR)]

        assert acting_manager(self.ANN, active_at(window, T0 - HOUR)) == self.ANN
        assert acting_manager(self.ANN, active_at(window, T0)) == self.BOB
        assert acting_manager(self.ANN, active_at(window, T0 + 2 * HOUR)) == self.ANN

    def test_a_chain_of_absences_ends_with_who_is_there_and_a_circle_stops(self) -> None:
        assert acting_manager(self.ANN, {self.ANN: self.BOB, self.BOB: self.CAT}) == self.CAT
        assert acting_manager(self.ANN, {self.ANN: self.BOB, self.BOB: self.ANN}) == self.BOB

    def test_a_stand_in_handles_their_own_requests_and_the_absent_ones(self) -> None:
        stand_ins = {self.ANN: self.BOB}

        assert acting_for(self.BOB, stand_ins) == {self.ANN, self.BOB}
        assert acting_for(self.ANN, stand_ins) == set()

    def test_windows_overlap_when_they_share_a_moment(self) -> None:
        first = Window(self.ANN, self.BOB, T0, T0 + HOUR)
        assert first.overlaps(Window(self.ANN, self.CAT, T0 + HOUR / 2, T0 + 2 * HOUR))
        assert not first.overlaps(Window(self.ANN, self.CAT, T0 + HOUR, T0 + 2 * HOUR))


EXISTING = (
    Profile(7, "Marie Dubois", "marie@example.org", ["+32470000001"]),
    Profile(3, "Jan Peeters", "jan@example.org", ["+32470000002"]),
)


class TestDuplicates:
    def test_the_same_e_mail_in_another_case_is_a_duplicate(self) -> None:
        found = likely_duplicate(Profile(0, "M D", "MARIE@example.org", []), EXISTING)
        assert found is not None and found.existing.id == 7 and found.matched_by == "email"

    def test_the_same_phone_is_a_duplicate(self) -> None:
        found = likely_duplicate(Profile(0, "J", None, ["+32470000002"]), EXISTING)
        assert found is not None and found.existing.id == 3 and found.matched_by == "phone"

    def test_the_same_name_alone_is_not(self) -> None:
        assert likely_duplicate(Profile(0, "Marie Dubois", "other@x.org", []), EXISTING) is None


class TestLanguages:
    def test_the_profile_wins_over_the_header(self) -> None:
        assert choose("fr-BE", "nb;q=1, en;q=0.5") == "fr"

    def test_the_header_is_read_by_weight_then_order(self) -> None:
        assert from_accept_language("de-DE, nl;q=0.9, fr;q=0.8, nb;q=0.8") == "fr"
        assert from_accept_language("no, en;q=0.5") == "nb"
        assert from_accept_language("fr;q=0, de") is None
        assert choose("de", "xx") == "en"


def test_every_code_has_a_label_in_every_language() -> None:
    for name, group in labels.GROUPS.items():
        for code, texts in group.items():
            assert len(texts) == len(labels.LANGUAGES), (name, code)
            assert all(t.strip() for t in texts), (name, code)
    assert labels.label(labels.REQUEST_STATUS, "offer_made", "fr") == "Offre faite"
    assert labels.label(labels.ROLE, "VIP", "nb") == "VIP"
