"""What a command checks before it starts, and the one line it prints when that fails.

A bad setting, an unreachable database or Redis, or a schema not yet migrated are conditions
an operator fixes, not bugs: the command says which, in one line on stderr, and exits with a
code a script can test (EXIT_*). No traceback, and no password in the line.
"""

import sys
from urllib.parse import urlsplit, urlunsplit

import redis
from pydantic import ValidationError
from redis.cluster import ClusterNode
from redis.exceptions import RedisClusterException
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from shared.infra.redis import cluster_seeds, embedded_redis_url
from shared.infra.settings import Settings

EXIT_FAILED = 1
EXIT_SETTINGS = 2
EXIT_DATABASE = 3
EXIT_REDIS = 4
# How long a check waits for a server that does not answer.
CONNECT_TIMEOUT_S = 5


class CommandError(Exception):
    """The command cannot run; `message` says why in one line, `code` is the exit code."""

    def __init__(self, message: str, *, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def read_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise CommandError(settings_message(exc), code=EXIT_SETTINGS) from None


def settings_message(exc: ValidationError) -> str:
    """E.g. "bad setting NEXTCALL_ENV: Input should be 'development', 'testing' or ...". A
    rule across settings names its settings itself (e.g. production's required servers)."""
    problems = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            message = f"NEXTCALL_{str(error['loc'][0]).upper()}: {message}"
        problems.append(message)
    return "bad setting " + "; ".join(problems)


def check_database(settings: Settings) -> None:
    """The configured PostgreSQL answers (the embedded SQLite needs no check)."""
    if settings.is_embedded():
        return
    try:
        engine = create_engine(
            settings.sync_database_url(),
            poolclass=NullPool,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        )
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except (ArgumentError, DBAPIError, ValueError) as exc:
        raise database_unreachable(settings, exc) from None


def check_redis(settings: Settings) -> None:
    """The configured Redis or Redis Cluster answers (or the embedded one, when it should be
    running), and so does the jobs' Redis when it is another one."""
    for url in (settings.redis_url or embedded_redis_url(settings), settings.jobs_redis_url):
        if url:
            try:
                _ping(url)
            except (redis.RedisError, RedisClusterException, ValueError) as exc:
                raise redis_unreachable(settings, exc, url=url) from None


def _ping(url: str) -> None:
    seeds = cluster_seeds(url)
    client: redis.Redis | redis.RedisCluster
    if seeds is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=CONNECT_TIMEOUT_S
        )
    else:
        # Connects to the seeds and reads the cluster's slots at once.
        client = redis.RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in seeds.nodes],
            username=seeds.username,
            password=seeds.password,
            ssl=seeds.tls,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=CONNECT_TIMEOUT_S,
        )
    try:
        client.ping()
    finally:
        client.close()


def database_unreachable(settings: Settings, exc: BaseException) -> CommandError:
    where = _hide_password(settings.database_url or settings.sync_database_url())
    return CommandError(f"cannot reach the database at {where}: {_reason(exc)}", code=EXIT_DATABASE)


def redis_unreachable(
    settings: Settings, exc: BaseException, *, url: str | None = None
) -> CommandError:
    where = _hide_password(url or settings.redis_url or embedded_redis_url(settings))
    return CommandError(f"cannot reach Redis at {where}: {_reason(exc)}", code=EXIT_REDIS)


def failure(settings: Settings, exc: BaseException) -> CommandError | None:
    """The one-line error for a failure while a command ran, if it is one an operator fixes."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | RedisClusterException):
        return redis_unreachable(settings, exc)
    if isinstance(exc, ProgrammingError | OperationalError) and _schema_missing(exc):
        return CommandError("the database has no nextcall schema yet: run `nextcall migrate`")
    if isinstance(exc, OperationalError) and _connection_failed(exc):
        return database_unreachable(settings, exc)
    return None


def report(error: CommandError, *, prog: str = "nextcall") -> int:
    print(f"{prog}: {error.message}", file=sys.stderr, flush=True)
    return error.code


def _schema_missing(exc: DBAPIError) -> bool:
    text_ = str(exc.orig).lower()
    return "no such table" in text_ or ("relation" in text_ and "does not exist" in text_)


def _connection_failed(exc: DBAPIError) -> bool:
    """The server went away or never answered (not, say, a lock timeout: that is a bug's)."""
    text_ = str(exc.orig).lower()
    return exc.connection_invalidated or "connect" in text_ or "unable to open" in text_


def _reason(exc: BaseException) -> str:
    """The underlying error's first line, without the driver's wrapping."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return (lines[0] if lines else type(cause).__name__)[:300]


def _hide_password(url: str) -> str:
    if url.startswith(("postgres", "sqlite")):
        try:
            return make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            return "(unreadable URL)"
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
