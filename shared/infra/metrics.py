"""Every Prometheus metric of nextcall, declared once (docs/decisions/021-metrics-alerts-logs.md).

Several API processes (uvicorn --workers) and RQ's forked work-horses write to the same
metrics, so processes use prometheus_client's multiprocess mode: the process that starts them
sets PROMETHEUS_MULTIPROC_DIR before anything is recorded (services/cli.py), and /metrics
aggregates the files. What Redis or the database knows (queue sizes, overdue follow-ups, RQ's
queue) is not recorded here: the process answering a scrape reads it then.

Labels are bounded: route templates, not paths; HTTP methods and statuses; fixed sets of
results, reasons, kinds and job kinds. Values a tenant defines are capped: outcome codes keep
their own label for the first OUTCOME_CODES_CAP codes a process records, the rest count under
"other"; assignment ids appear only on the queue size of the QUEUE_TOP_ASSIGNMENTS largest
queues (services/api/metrics/queues.py).
"""

import threading
from collections.abc import Mapping
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

from shared.infra.timeutil import as_utc

# Outcome codes with a label of their own per process; later codes count as "other".
OUTCOME_CODES_CAP = 30
# Assignments whose queue size is reported one by one; the rest are summed as "other".
QUEUE_TOP_ASSIGNMENTS = 20
OTHER = "other"

# The worker's job kinds (services/worker/metered.py names each job function's kind).
JOB_KINDS = ("import", "rebuild", "move", "bulk_outcome", OTHER)
# Redis clients that every deployment has: their error counters exist from the start.
REDIS_CLIENTS = ("api", "api-streams", "scheduler")

# Latency buckets for requests that are meant to take milliseconds.
FAST_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.0)
# ... and for everything an HTTP client may wait on (long polls end within 30 s).
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Follow-ups: how late they are served, from on time to a working day.
LATENESS_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0)
# Jobs: a rebuild of a small queue to an import of millions.
JOB_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
# The scheduler's tick: every 0.25 s by default, a tick taking a second is far behind.
TICK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

# --- HTTP (services/api/observe.py) ------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "nextcall_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "nextcall_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=HTTP_BUCKETS,
)

# --- next, select, outcomes ---------------------------------------------------------------------
NEXT_LATENCY = Histogram(
    "nextcall_next_duration_seconds",
    "Time to answer one claim of /next, from request to card or empty answer (no waiting).",
    buckets=FAST_BUCKETS,
)
NEXT_ANSWERS = Counter(
    "nextcall_next_total",
    "Answers to /next: claimed by source, or empty by the reason most customers wait for.",
    # claimed: personal_followup | shared_followup | free | current
    # empty: held | cooldown | outside_hours | blocked | at_attempt_limit | waiting_followups
    #        | none_left
    ["result", "reason"],
)
CLAIMS = Counter(
    "nextcall_claims_total",
    "Customers handed out, by where they came from.",
    ["source"],  # personal_followup | shared_followup | free | current | selected
)
LONG_POLLS = Counter(
    "nextcall_next_long_polls_total",
    "Answers to /next that were allowed to wait (wait_seconds > 0), by how they ended.",
    ["status"],  # claimed | empty
)
OUTCOMES = Counter(
    "nextcall_outcomes_total",
    f"Outcomes registered, by outcome code (the first {OUTCOME_CODES_CAP} codes, then other).",
    ["code"],
)
ATTEMPTS = Counter("nextcall_attempts_total", "Attempts registered, by kind.", ["kind"])
# --- the dialer (decision 035) -----------------------------------------------------------------
DIALS_RESERVED = Counter(
    "nextcall_dials_reserved_total", "Customers reserved by dialers (leased for one dial)."
)
DIAL_RESULTS = Counter(
    "nextcall_dial_results_total",
    "Dial results reported by dialers, by result (system attempts are the unanswered kinds).",
    ["result"],  # answered | no_answer | busy | machine | failed | invalid_number | abandoned
)
INBOUND_CALLS = Counter(
    "nextcall_inbound_calls_total", "Inbound calls matched to a customer or not.", ["matched"]
)
STALE_WRITES = Counter(
    "nextcall_stale_writes_total",
    "Attempts and outcomes refused because the writer no longer held the customer (409).",
)
CONTACT_BARS = Counter(
    "nextcall_contact_bars_total",
    "Customers not served or taken out of the queue because they must not be called.",
    ["reason"],  # blocklist | register | consent | stale_register (a claim refused whole)
)
QUEUE_REPAIRS = Counter(
    "nextcall_queue_repairs_total",
    "Customers the queue handed out that the database said were not eligible; re-placed.",
)
FOLLOWUP_LATENESS = Histogram(
    "nextcall_followup_lateness_seconds",
    "How long after its due time a follow-up was handed out, by kind (shared, personal).",
    ["kind"],
    buckets=LATENESS_BUCKETS,
)

# --- the worker ---------------------------------------------------------------------------------
LEASES_EXPIRED = Counter(
    "nextcall_leases_expired_total", "Leases returned by the worker's sweep after expiry."
)
TICK_DURATION = Histogram(
    "nextcall_scheduler_tick_duration_seconds",
    "Time one scheduler tick took: sweep every active assignment, wake, announce.",
    buckets=TICK_BUCKETS,
)
TICK_LAG = Histogram(
    "nextcall_scheduler_lag_seconds",
    "How much later than its interval a tick started (a slow tick delays the next one).",
    buckets=TICK_BUCKETS,
)
TICK_FAILURES = Counter(
    "nextcall_scheduler_tick_failures_total", "Scheduler ticks that failed (and were retried)."
)
LAST_TICK = Gauge(
    "nextcall_scheduler_last_tick_timestamp_seconds",
    "When the last successful scheduler tick ended (Unix time).",
    multiprocess_mode="livemax",
)
QUEUE_RECOVERIES = Counter(
    "nextcall_queue_recoveries_total",
    "Times the worker found Redis empty or restarted and rebuilt every queue from the database.",
)
QUEUE_DRIFT = Counter(
    "nextcall_queue_drift_total",
    "Entries of a Redis queue the reconcile job found different from the database and "
    "repaired (a member missing, stray or at another score; a customer's home changed).",
)
QUEUE_RECONCILES = Counter(
    "nextcall_queue_reconciles_total",
    "Queues the reconcile job compared with the database (and repaired where they drifted).",
)
JOBS_STARTED = Counter("nextcall_jobs_started_total", "Worker jobs started, by kind.", ["kind"])
JOBS_FAILED = Counter(
    "nextcall_jobs_failed_total", "Worker jobs failed for good, by kind.", ["kind"]
)
JOBS_RETRIED = Counter(
    "nextcall_jobs_retried_total",
    "Worker jobs run again after a failure or a dead worker, by kind.",
    ["kind"],
)
JOB_DURATION = Histogram(
    "nextcall_job_duration_seconds",
    "Time a worker job ran, by kind, whether it succeeded or not.",
    ["kind"],
    buckets=JOB_BUCKETS,
)

# --- pools and processes (shared/infra/telemetry.py samples them every few seconds) -------------
DB_POOL = Gauge(
    "nextcall_db_pool_connections",
    "Database connections per pool (engine: SQLAlchemy; direct: the hot path's asyncpg) and "
    "state (in_use, idle, max).",
    ["pool", "state"],
    multiprocess_mode="livesum",
)
DB_ERRORS = Counter(
    "nextcall_db_errors_total",
    "Database errors, by pool and kind (disconnect: the connection broke; statement: refused).",
    ["pool", "kind"],
)
REDIS_POOL = Gauge(
    "nextcall_redis_pool_connections",
    "Redis connections per client (api, api-streams, scheduler, ...) and state "
    "(in_use, idle, max).",
    ["client", "state"],
    multiprocess_mode="livesum",
)
REDIS_ERRORS = Counter(
    "nextcall_redis_errors_total",
    "Redis connection errors and timeouts (each retry counts), by client.",
    ["client"],
)
PROCESS_MEMORY = Gauge(
    "nextcall_process_resident_memory_bytes",
    "Resident memory of the live processes that record here.",
    multiprocess_mode="livesum",
)
PROCESS_FDS = Gauge(
    "nextcall_process_open_fds",
    "Open file descriptors of the live processes that record here.",
    multiprocess_mode="livesum",
)
PROCESSES = Gauge(
    "nextcall_processes",
    "Live processes that record here (API processes, the worker).",
    multiprocess_mode="livesum",
)
PROCESS_CPU = Counter(
    "nextcall_process_cpu_seconds_total", "CPU time (user and system) of the processes."
)
PROCESS_START = Gauge(
    "nextcall_process_start_time_seconds",
    "Start of the oldest live process that records here (Unix time).",
    multiprocess_mode="livemin",
)


class BoundedLabel:
    """A tenant-defined value as a label: itself for the first `cap` values seen, else OTHER.

    Per process: each API process keeps its own first `cap`. The codes a contact centre uses
    most are the first every process sees, so the union stays near `cap` in practice; it can
    never pass `cap` times the processes that ever recorded.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self.cap:
                self._seen.add(value)
                return value
        return OTHER


outcome_code = BoundedLabel(OUTCOME_CODES_CAP)

_EMPTY_REASONS = (
    "held",
    "cooldown",
    "outside_hours",
    "blocked",
    "at_attempt_limit",
    "waiting_followups",
)


def main_reason(reasons: Mapping[str, object] | str) -> str:
    """The reason most customers wait for, from an empty answer's counts; none_left if none.
    A reason given as such (a stale register stops every claim) is that reason."""
    if isinstance(reasons, str):
        return reasons
    counts = {r: int(str(reasons.get(r) or 0)) for r in _EMPTY_REASONS}
    reason = max(_EMPTY_REASONS, key=lambda r: counts[r])
    return reason if counts[reason] > 0 else "none_left"


def followup_served(source: str, due: datetime | None, now: datetime) -> None:
    """Record how late a follow-up was handed out, when the claim served one."""
    if due is None or source not in ("shared_followup", "personal_followup"):
        return
    kind = "shared" if source == "shared_followup" else "personal"
    FOLLOWUP_LATENESS.labels(kind).observe(max(0.0, (now - as_utc(due)).total_seconds()))


def _initialise() -> None:
    """Every series of a known, bounded label set exists from the start, at 0: an alert or a
    panel on a rare event (a failed job, a broken connection) then has a series to compare
    with rather than nothing (https://prometheus.io/docs/practices/instrumentation/)."""
    for kind in JOB_KINDS:
        for family in (JOBS_STARTED, JOBS_FAILED, JOBS_RETRIED, JOB_DURATION):
            family.labels(kind)
    for status in ("claimed", "empty"):
        LONG_POLLS.labels(status)
    for attempt in ("no_answer", "call_back_later"):
        ATTEMPTS.labels(attempt)
    for kind in ("shared", "personal"):
        FOLLOWUP_LATENESS.labels(kind)
    for pool in ("engine", "direct"):
        for error in ("disconnect", "statement"):
            DB_ERRORS.labels(pool, error)
    for client in REDIS_CLIENTS:
        REDIS_ERRORS.labels(client)


_initialise()
