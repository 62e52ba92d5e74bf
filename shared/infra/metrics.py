"""Every Prometheus metric of nextcall, declared once.

Several API processes (uvicorn --workers) and RQ's forked work-horses write to the same
metrics, so processes use prometheus_client's multiprocess mode: the process that starts them
sets PROMETHEUS_MULTIPROC_DIR before anything is recorded (services/cli.py), and /metrics
aggregates the files. Queue depth is not recorded here: /metrics reads it from Redis on scrape.
"""

from prometheus_client import Counter, Histogram

NEXT_LATENCY = Histogram(
    "nextcall_next_duration_seconds",
    "Time to answer a /next request, from request to card.",
    buckets=(0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.0),
)
CLAIMS = Counter(
    "nextcall_claims_total",
    "Customers handed out, by where they came from.",
    ["source"],  # personal_followup | shared_followup | free | current | selected
)
EMPTY_ANSWERS = Counter("nextcall_next_empty_total", "Answers to /next with no eligible customer.")
LONG_POLLS = Counter(
    "nextcall_next_long_polls_total",
    "Answers to /next that were allowed to wait (wait_seconds > 0), by how they ended.",
    ["status"],  # claimed | empty
)
OUTCOMES = Counter("nextcall_outcomes_total", "Outcomes registered, by outcome code.", ["code"])
ATTEMPTS = Counter("nextcall_attempts_total", "Attempts registered, by kind.", ["kind"])
STALE_WRITES = Counter(
    "nextcall_stale_writes_total",
    "Attempts and outcomes refused because the writer no longer held the customer (409).",
)
QUEUE_REPAIRS = Counter(
    "nextcall_queue_repairs_total",
    "Customers the queue handed out that the database said were not eligible; re-placed.",
)
LEASES_EXPIRED = Counter(
    "nextcall_leases_expired_total", "Leases returned by the worker's sweep after expiry."
)
