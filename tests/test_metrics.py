"""shared/infra/metrics.py: bounded labels for what tenants define."""

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from shared.infra import metrics


class TestBoundedLabel:
    def test_values_past_the_cap_count_as_other(self) -> None:
        label = metrics.BoundedLabel(2)

        assert [label(v) for v in ("a", "b", "c", "a", "d", "b")] == [
            "a",
            "b",
            metrics.OTHER,
            "a",
            metrics.OTHER,
            "b",
        ]


class TestMainReason:
    def test_the_reason_most_customers_wait_for(self) -> None:
        reasons = {"held": 2, "cooldown": 5, "blocked": 1, "none_left": False}

        assert metrics.main_reason(reasons) == "cooldown"

    def test_none_left_when_nobody_waits(self) -> None:
        assert metrics.main_reason({"held": 0, "none_left": True}) == "none_left"


class TestFollowUpServed:
    def test_records_lateness_of_follow_ups_only(self) -> None:
        now = datetime.now(UTC)
        count = "nextcall_followup_lateness_seconds_count"
        before = REGISTRY.get_sample_value(count, {"kind": "shared"}) or 0.0
        late = REGISTRY.get_sample_value(
            "nextcall_followup_lateness_seconds_bucket", {"kind": "shared", "le": "2.0"}
        )

        metrics.followup_served("shared_followup", now - timedelta(seconds=1.5), now)
        metrics.followup_served("free", now - timedelta(hours=1), now)
        metrics.followup_served("shared_followup", None, now)

        assert REGISTRY.get_sample_value(count, {"kind": "shared"}) == before + 1
        assert (
            REGISTRY.get_sample_value(
                "nextcall_followup_lateness_seconds_bucket", {"kind": "shared", "le": "2.0"}
            )
            == (late or 0.0) + 1
        )
