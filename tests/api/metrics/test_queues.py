"""The queue figures /metrics reads from Redis: capped to the largest assignments."""

from services.api.metrics.queues import depth_family, overdue_families
from shared.infra.metrics import OTHER, QUEUE_TOP_ASSIGNMENTS


class TestDepth:
    def test_the_largest_queues_by_id_and_the_rest_summed(self) -> None:
        depths = {i: {"free": i, "held": 1} for i in range(1, QUEUE_TOP_ASSIGNMENTS + 6)}

        family = depth_family(depths)

        labels = {tuple(s.labels.values()): s.value for s in family.samples}
        assignments = {a for a, _ in labels}
        assert len(assignments) == QUEUE_TOP_ASSIGNMENTS + 1
        assert "1" not in assignments and str(QUEUE_TOP_ASSIGNMENTS + 5) in assignments
        assert labels[(OTHER, "free")] == 1 + 2 + 3 + 4 + 5
        assert labels[(OTHER, "held")] == 5
        assert sum(v for (_, where), v in labels.items() if where == "free") == sum(
            d["free"] for d in depths.values()
        )


class TestOverdue:
    def test_counts_summed_and_the_oldest_lateness(self) -> None:
        at = 1_000_000
        found = [
            {"shared": (2, at - 90_000), "personal": (0, 0)},
            {"shared": (1, at - 300_000), "personal": (1, at - 61_000)},
        ]

        count, late = overdue_families(found, at)

        assert {s.labels["kind"]: s.value for s in count.samples} == {"shared": 3, "personal": 1}
        assert {s.labels["kind"]: s.value for s in late.samples} == {
            "shared": 300.0,
            "personal": 61.0,
        }
