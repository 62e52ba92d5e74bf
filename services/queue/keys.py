"""Where nextcall's Redis key names are spelled: the prefix once, the hash tags, and the
process-wide coordination keys (locks, markers, once-only claims).

The names are those a running system already holds: renaming one orphans its data (a queue
nobody finds, a lock two replicas both take), so a change needs a migration of the data.

Keys of one assignment carry the hash tag `{a:<id>}`, a user's keys `{u:<id>}`: Redis Cluster
serves each group from one slot, so one Lua script or pipeline may touch all of them. The
structures of an assignment own the rest of their names (engine.AssignmentQueue, streams,
broadcast); what is here belongs to no one assignment's data, or to the worker's coordination.
"""

PREFIX = "nc"


def assignment_tag(assignment_id: int) -> str:
    """`{a:<id>}`: every key of one assignment lives in this slot."""
    return f"{{a:{assignment_id}}}"


def user_tag(user_id: int) -> str:
    """`{u:<id>}`: one user's keys, in their own slot."""
    return f"{{u:{user_id}}}"


def assignment_prefix(assignment_id: int) -> str:
    """`nc:{a:<id>}:`, the start of every key of the assignment's queue (lua/common.lua's P)."""
    return f"{PREFIX}:{assignment_tag(assignment_id)}:"


def agent(user_id: int) -> str:
    """The assignment an agent last asked for work in (services.queue.AssignmentQueue)."""
    return f"{PREFIX}:agent:{user_tag(user_id)}"


# The run_id of the Redis server the queues were last rebuilt in; gone with a flush or restart
# (docs/decisions/015-redis-restart-recovery.md).
QUEUES_EPOCH = f"{PREFIX}:queues:epoch"
# Held by the one worker replica that rebuilds every queue after Redis lost them.
RECOVERY_LOCK = f"{PREFIX}:lock:queues:recovery"
# Held by the one worker replica that looks for abandoned jobs (docs/decisions/016-...).
ABANDONED_JOBS_LOCK = f"{PREFIX}:lock:jobs:abandoned"


# The API's channel for revoked tokens and changed users (services/api/auth/revocations.py).
AUTH_REVOCATIONS = f"{PREFIX}:auth:revocations"
# The prefix of the API's rate-limit counters (services/api/ratelimit/limiter.py).
RATE_LIMITS = f"{PREFIX}:ratelimit"


def rebuild_lock(assignment_id: int) -> str:
    """Serialises the rebuilds of one assignment. Outside the queue's own prefix, so clearing
    the queue keeps it; in the assignment's slot all the same."""
    return f"{PREFIX}:lock:rebuild:{assignment_tag(assignment_id)}"


def job_reruns(rq_id: str) -> str:
    """How often an abandoned job was run again."""
    return f"{PREFIX}:jobs:reruns:{rq_id}"


def once(what: str) -> str:
    """Claimed with SET NX by the one worker replica that does a periodic task this time."""
    return f"{PREFIX}:once:{what}"


def idempotency(tenant_id: int, user_id: int, key_digest: str) -> str:
    """The first answer to a write sent with an Idempotency-Key, per tenant and user
    (services/api/idempotency)."""
    return f"{PREFIX}:idem:{user_tag(user_id)}:{tenant_id}:{key_digest}"
