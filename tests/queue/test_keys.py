"""The Redis names a running system holds: moved into services/queue, spelled as before.

A renamed key orphans its data (a queue nobody finds, a lock two replicas both take), so
these names are pinned; every key of one assignment keeps the `{a:<id>}` hash tag.
"""

from redis.asyncio import Redis

from services.queue import AssignmentQueue, broadcast, keys, streams
from services.queue.streams import Activity


class TestTheNamesStayTheSame:
    def test_an_assignments_queue(self, redis: Redis) -> None:
        assert AssignmentQueue(redis, 5).prefix == "nc:{a:5}:"
        assert AssignmentQueue(redis, 5).home_key == "nc:{a:5}:home"
        assert keys.agent(7) == "nc:agent:{u:7}"

    def test_the_workers_coordination(self) -> None:
        assert keys.QUEUES_EPOCH == "nc:queues:epoch"
        assert keys.RECOVERY_LOCK == "nc:lock:queues:recovery"
        assert keys.ABANDONED_JOBS_LOCK == "nc:lock:jobs:abandoned"
        assert keys.rebuild_lock(3) == "nc:lock:rebuild:{a:3}"
        assert keys.job_reruns("import-4") == "nc:jobs:reruns:import-4"
        assert keys.once("fallback:9") == "nc:once:fallback:9"

    def test_the_live_streams(self) -> None:
        assert streams.user_stream(1) == "nc:stream:{u:1}"
        assert streams.assignment_stream(2) == "nc:stream:{a:2}"
        assert streams.workers_key(2) == "nc:{a:2}:workers"
        assert streams.activity_key(2, Activity.outcomes, 100) == "nc:{a:2}:outcomes:100"
        assert streams.watched_key(2) == "nc:{a:2}:watched"
        assert streams.once_key(2, "stats:8") == "nc:{a:2}:once:stats:8"

    def test_the_wake_up_channel(self) -> None:
        assert broadcast.assignment_channel(5) == "nc:events:{a:5}"
        assert broadcast.EVENTS_PATTERN == "nc:events:*"


class TestEligibleAssignment:
    def test_an_eligible_message_names_its_assignment(self) -> None:
        message = broadcast.eligible_message(5)
        assert broadcast.eligible_assignment(broadcast.assignment_channel(5), message) == 5

    def test_anything_else_is_none(self) -> None:
        message = broadcast.eligible_message(5)
        assert broadcast.eligible_assignment("nc:events:{a:x}", message) is None
        assert broadcast.eligible_assignment("nc:events:{u:5}", message) is None
        assert broadcast.eligible_assignment("nc:other:{a:5}", message) is None
        assert broadcast.eligible_assignment("nc:events:{a:5}", '{"type": "stats"}') is None
        assert broadcast.eligible_assignment("nc:events:{a:5}", "not json") is None
