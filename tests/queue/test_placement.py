"""compute_placement and encode_rank: where a customer waits, and the order of free customers."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.queue import Placement, SortValue, compute_placement
from services.queue.placement import encode_rank
from tests.queue.support import NOW, Src

Row = tuple[int, Sequence[SortValue]]


def served_order(rows: Sequence[Row], *, over_limit: frozenset[int] = frozenset()) -> list[int]:
    """Customer ids in the order the queue serves them: byte order of their ranks."""
    ranked = [
        (
            encode_rank(values, over_limit=cid in over_limit, import_order=cid, customer_id=cid),
            cid,
        )
        for cid, values in rows
    ]
    return [cid for _, cid in sorted(ranked)]


def one_key(values: Sequence[object], direction: str) -> list[Row]:
    """Customers 1..n, each ordered by one value of one sort key."""
    return [(i, ((v, direction),)) for i, v in enumerate(values, start=1)]  # type: ignore[misc]


class TestEncodeRank:
    def test_numbers_ascending_with_negatives_and_floats(self) -> None:
        values = [3, -2.5, 0, -1, 0.5, 1e9, -1e9, 2, -0.25]
        order = served_order(one_key(values, "asc"))
        assert [values[i - 1] for i in order] == sorted(values)

    def test_numbers_descending_with_negatives_and_floats(self) -> None:
        values = [3, -2.5, 0, -1, 0.5, 1e9, -1e9, 2, -0.25]
        order = served_order(one_key(values, "desc"))
        assert [values[i - 1] for i in order] == sorted(values, reverse=True)

    def test_equal_numbers_tie_and_fall_back_to_import_order(self) -> None:
        # 2 and 2.0 are the same number; -0.0 and 0.0 too.
        assert served_order(one_key([2.0, 2, 2.0], "asc")) == [1, 2, 3]
        assert served_order(one_key([0.0, -0.0, 0], "asc")) == [1, 2, 3]
        assert served_order(one_key([-0.0, 0.0, -0.0], "desc")) == [1, 2, 3]

    def test_texts_ascending_case_insensitive(self) -> None:
        values = ["bravo", "Alpha", "charlie", "ALPHABET", "alp"]
        order = served_order(one_key(values, "asc"))
        assert [values[i - 1] for i in order] == ["alp", "Alpha", "ALPHABET", "bravo", "charlie"]

    def test_texts_descending_case_insensitive(self) -> None:
        values = ["bravo", "Alpha", "charlie", "ALPHABET", "alp"]
        order = served_order(one_key(values, "desc"))
        assert [values[i - 1] for i in order] == ["charlie", "bravo", "ALPHABET", "Alpha", "alp"]

    def test_texts_differing_only_in_case_tie(self) -> None:
        assert served_order(one_key(["OSLO", "oslo", "Oslo"], "asc")) == [1, 2, 3]
        assert served_order(one_key(["OSLO", "oslo", "Oslo"], "desc")) == [1, 2, 3]

    def test_texts_order_by_their_first_twelve_bytes(self) -> None:
        # Documented limit: a longer common prefix ties, and import order decides.
        values = ["abcdefghijklZ", "abcdefghijklA"]
        assert served_order(one_key(values, "asc")) == [1, 2]

    def test_dates_ascending_and_descending(self) -> None:
        values = [date(2024, 3, 1), date(1999, 12, 31), date(2024, 2, 29), date(2030, 1, 1)]
        asc = served_order(one_key(values, "asc"))
        desc = served_order(one_key(values, "desc"))
        assert [values[i - 1] for i in asc] == sorted(values)
        assert [values[i - 1] for i in desc] == sorted(values, reverse=True)

    def test_datetimes_ascending_and_descending(self) -> None:
        base = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        values = [base, base - timedelta(days=400), base + timedelta(seconds=1), base.replace(1970)]
        asc = served_order(one_key(values, "asc"))
        desc = served_order(one_key(values, "desc"))
        assert [values[i - 1] for i in asc] == sorted(values)
        assert [values[i - 1] for i in desc] == sorted(values, reverse=True)

    @pytest.mark.parametrize("direction", ["asc", "desc"])
    @pytest.mark.parametrize(
        "present",
        [
            [-5.5, 0, 7],
            ["a", "Z", "m"],
            [date(2020, 1, 1), date(1990, 1, 1), date(2050, 1, 1)],
            [datetime(2020, 1, 1, tzinfo=UTC), datetime(1990, 1, 1, tzinfo=UTC)],
        ],
        ids=["numbers", "texts", "dates", "datetimes"],
    )
    def test_none_sorts_last_in_both_directions(
        self, present: list[object], direction: str
    ) -> None:
        values = [None, *present, None]
        order = served_order(one_key(values, direction))
        assert [values[i - 1] for i in order][-2:] == [None, None]
        assert order[-2:] == [1, len(values)]  # the missing ones tie: import order

    def test_several_keys_each_breaks_the_ties_of_the_one_before(self) -> None:
        # attempts ascending, then a score descending, then a name ascending
        rows: list[Row] = [
            (1, ((1, "asc"), (50.0, "desc"), ("bo", "asc"))),
            (2, ((0, "asc"), (10.0, "desc"), ("al", "asc"))),
            (3, ((0, "asc"), (90.0, "desc"), ("zed", "asc"))),
            (4, ((0, "asc"), (90.0, "desc"), ("Anna", "asc"))),
            (5, ((0, "asc"), (None, "desc"), ("aa", "asc"))),
            (6, ((1, "asc"), (50.0, "desc"), (None, "asc"))),
            (7, ((1, "asc"), (99.0, "desc"), ("x", "asc"))),
        ]
        assert served_order(rows) == [4, 3, 2, 5, 7, 1, 6]

    def test_import_order_then_customer_id_break_full_ties(self) -> None:
        values: tuple[SortValue, ...] = ((1, "asc"),)
        early = encode_rank(values, over_limit=False, import_order=5, customer_id=900)
        late = encode_rank(values, over_limit=False, import_order=6, customer_id=1)
        same_import_low_id = encode_rank(values, over_limit=False, import_order=6, customer_id=0)
        assert early < same_import_low_id < late

    def test_over_limit_customers_come_after_all_under_limit_ones(self) -> None:
        values = [-100, 5, 1, 50, -3]
        rows = one_key(values, "asc")
        order = served_order(rows, over_limit=frozenset({1, 3}))
        # Under the limit (2, 4, 5) by value, then over the limit (1, 3) by value.
        assert order == [5, 2, 4, 1, 3]

    def test_rank_is_fixed_width_hex_ending_with_the_customer_id(self) -> None:
        ranks = [
            encode_rank(((v, "desc"), ("x", "asc")), over_limit=o, import_order=i, customer_id=c)
            for v, o, i, c in [(None, False, 0, 1), (-1e300, True, 2**40, 2**53), (7, False, 3, 9)]
        ]
        assert len({len(r) for r in ranks}) == 1
        for rank in ranks:
            assert set(rank) <= set("0123456789abcdef")
        assert int(ranks[1][-16:], 16) == 2**53
        assert int(ranks[2][-16:], 16) == 9

    @given(
        st.lists(
            st.one_of(st.none(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False)),
            min_size=1,
            max_size=12,
        ),
        st.sampled_from(["asc", "desc"]),
    )
    def test_numbers_order_like_python(self, values: list[float | None], direction: str) -> None:
        order = served_order(one_key(values, direction))
        present = sorted(
            ((v, i) for i, v in enumerate(values, start=1) if v is not None),
            key=lambda p: (-p[0] if direction == "desc" else p[0], p[1]),
        )
        missing = [i for i, v in enumerate(values, start=1) if v is None]
        assert order == [i for _, i in present] + missing

    @given(
        st.lists(st.text("abcXYZ", max_size=12), min_size=1, max_size=12),
        st.sampled_from(["asc", "desc"]),
    )
    def test_texts_order_like_python_casefolded(self, values: list[str], direction: str) -> None:
        order = served_order(one_key(values, direction))
        folded = [(v.casefold(), i) for i, v in enumerate(values, start=1)]
        folded.sort(key=lambda p: p[1])
        folded.sort(key=lambda p: p[0], reverse=direction == "desc")
        assert order == [i for _, i in folded]


class TestComputePlacement:
    def test_free_customer_is_free_with_its_rank_segment_and_zone(self) -> None:
        src = Src(
            customer_id=42,
            segment_id=7,
            time_zone="Europe/Oslo",
            sort_values=((3, "asc"),),
            import_order=11,
        )
        rank = encode_rank(((3, "asc"),), over_limit=False, import_order=11, customer_id=42)
        assert compute_placement(src, now_ms=NOW) == Placement("free", "7", "Europe/Oslo", rank)

    def test_no_segment_is_unsegmented(self) -> None:
        assert compute_placement(Src(segment_id=None), now_ms=NOW).segment == "0"

    def test_final_state_is_parked_whatever_else_holds(self) -> None:
        src = Src(
            state_kind="final",
            segment_id=3,
            blocked=True,
            followup_kind="shared",
            followup_due_ms=NOW,
            cooldown_until_ms=NOW + 1000,
        )
        assert compute_placement(src, now_ms=NOW) == Placement("park", "3", "UTC")

    def test_blocked_wins_over_followups_cooldown_and_limit(self) -> None:
        src = Src(
            blocked=True,
            followup_kind="personal",
            followup_due_ms=NOW,
            followup_owner=5,
            cooldown_until_ms=NOW + 1000,
            over_attempt_limit=True,
            stop_at_limit=True,
        )
        assert compute_placement(src, now_ms=NOW) == Placement("blocked", "0", "UTC")

    def test_personal_followup_waits_for_its_owner_at_its_time(self) -> None:
        src = Src(
            segment_id=2,
            state_kind="progressive",
            followup_kind="personal",
            followup_due_ms=NOW + 60_000,
            followup_owner=8,
        )
        expected = Placement("pfu", "2", "UTC", due_ms=NOW + 60_000, owner=8)
        assert compute_placement(src, now_ms=NOW) == expected

    def test_shared_followup_waits_for_anyone_at_its_time(self) -> None:
        src = Src(followup_kind="shared", followup_due_ms=NOW - 5, sort_values=((1, "asc"),))
        expected = Placement("sfu", "0", "UTC", due_ms=NOW - 5)
        assert compute_placement(src, now_ms=NOW) == expected

    def test_followups_come_before_the_attempt_limit(self) -> None:
        # A promised call-back is kept even for a customer at the limit.
        src = Src(
            followup_kind="shared",
            followup_due_ms=NOW,
            over_attempt_limit=True,
            stop_at_limit=True,
        )
        assert compute_placement(src, now_ms=NOW).kind == "sfu"

    def test_followup_kind_without_a_time_is_ignored(self) -> None:
        assert compute_placement(Src(followup_kind="shared"), now_ms=NOW).kind == "free"
        progressive = Src(state_kind="progressive", followup_kind="personal", followup_owner=1)
        assert compute_placement(progressive, now_ms=NOW).kind == "park"

    def test_progressive_without_followup_is_parked(self) -> None:
        src = Src(state_kind="progressive", segment_id=4, time_zone="America/New_York")
        assert compute_placement(src, now_ms=NOW) == Placement("park", "4", "America/New_York")

    def test_cooldown_in_the_future_cools_until_its_end(self) -> None:
        src = Src(customer_id=3, cooldown_until_ms=NOW + 1, sort_values=((1, "asc"),))
        free_rank = compute_placement(replace(src, cooldown_until_ms=None), now_ms=NOW).rank
        placement = compute_placement(src, now_ms=NOW)
        assert placement == Placement("cool", "0", "UTC", rank=free_rank, due_ms=NOW + 1)

    @pytest.mark.parametrize("until", [NOW, NOW - 1])
    def test_cooldown_ended_is_free(self, until: int) -> None:
        src = Src(cooldown_until_ms=until)
        placement = compute_placement(src, now_ms=NOW)
        assert placement.kind == "free"
        assert placement.due_ms is None

    def test_stop_at_limit_is_limit(self) -> None:
        src = Src(over_attempt_limit=True, stop_at_limit=True, cooldown_until_ms=NOW + 10)
        assert compute_placement(src, now_ms=NOW) == Placement("limit", "0", "UTC")

    def test_over_limit_without_stop_stays_free_behind_the_others(self) -> None:
        under = compute_placement(Src(customer_id=1, sort_values=((9, "asc"),)), now_ms=NOW)
        over = compute_placement(
            Src(customer_id=2, sort_values=((0, "asc"),), over_attempt_limit=True), now_ms=NOW
        )
        assert over.kind == "free"
        assert under.rank < over.rank

    @pytest.mark.parametrize(
        "placement",
        [
            Placement("free", "3", "Europe/Oslo", rank="0abc"),
            Placement("cool", "0", "UTC", rank="0abc", due_ms=NOW),
            Placement("pfu", "1", "UTC", due_ms=NOW, owner=12),
            Placement("park"),
        ],
    )
    def test_placement_encodes_and_decodes(self, placement: Placement) -> None:
        assert Placement.decode(placement.encode()) == placement
