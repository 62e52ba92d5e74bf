"""PostgreSQL out of reach is a 503 to retry, never a 500 (issue 12 point 4; decision 032):
what asyncpg and SQLAlchemy raise while the server restarts, refuses or drops connections.
The whole path, a real PostgreSQL stopped under agents at work, is tests/chaos/test_replicas."""

import asyncpg
import pytest
from redis.exceptions import ClusterDownError, MasterDownError, TryAgainError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from services.api.errors import error_answer


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "reset by peer"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_database_out_of_reach_answers_503_with_retry_after(exc: BaseException) -> None:
    answer = error_answer(exc)

    assert answer is not None
    status, body, headers = answer
    assert (status, body["code"], headers) == (503, "database_unavailable", {"Retry-After": "1"})


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("INSERT", {}, Exception("duplicate key")),
        ProgrammingError("SELEC 1", {}, Exception("syntax error")),
        asyncpg.exceptions.UndefinedTableError("relation does not exist"),
        ValueError("a bug"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_statement_the_database_refuses_is_still_a_bug(exc: BaseException) -> None:
    assert error_answer(exc) is None


@pytest.mark.parametrize(
    "exc",
    [ClusterDownError("CLUSTERDOWN"), MasterDownError("MASTERDOWN"), TryAgainError("TRYAGAIN")],
    ids=lambda exc: type(exc).__name__,
)
def test_a_redis_shard_failing_over_answers_503_too(exc: BaseException) -> None:
    answer = error_answer(exc)

    assert answer is not None
    assert (answer[0], answer[1]["code"]) == (503, "queue_store_unavailable")
