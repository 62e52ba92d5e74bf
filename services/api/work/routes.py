"""The agent's three hot operations, declared once: next, outcomes and attempts.

Both ways in are built from this table: the plain ASGI hot path (hot.py, decision 017) matches
their paths and parses their bodies, and the FastAPI router (router.py) declares them as
routes (validation of anything out of the ordinary, the OpenAPI document, the long poll).
"""

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from services.api.auth.cache import Principal
from services.api.resources import Resources
from services.api.work import writes
from services.api.work.next_customer import next_customer
from services.api.work.schemas import (
    AttemptRequest,
    CardOut,
    EmptyOut,
    NextRequest,
    OutcomeRequest,
    WriteResult,
)

# Every route of the API lives under this prefix.
PREFIX = "/v1"

# The operation, for the caller, the id in the path and the parsed request.
Run = Callable[[Resources, Principal, int, Any], Coroutine[Any, Any, BaseModel]]


@dataclass(frozen=True, slots=True)
class WorkRoute:
    name: str
    # Under PREFIX, with one id in braces: "/customers/{customer_id}/outcomes".
    path: str
    request: type[BaseModel]
    response_model: Any
    run: Run
    summary: str
    doc: str
    # What it refuses (422) beyond what its schema says (services/api/errors.py `refuses`).
    refuses: str | None = None
    # A request may come without a body (then it is `request()`).
    body_optional: bool = False
    # A request that waits for its answer (the long poll): FastAPI's route serves it, as it
    # watches its client.
    waits: Callable[[Any], bool] | None = None

    @property
    def id_name(self) -> str:
        found = re.search(r"\{(\w+)\}", self.path)
        assert found is not None, self.path
        return found[1]

    def pattern(self) -> re.Pattern[str]:
        """The full path, its id as up to 19 digits (the caller checks it against MAX_ID)."""
        return re.compile(PREFIX + re.sub(r"\{\w+\}", "([1-9][0-9]{0,18})", self.path))

    def parse(self, body: bytes) -> BaseModel | None:
        """The body as the request; None when it is one the hot path leaves to FastAPI; a
        pydantic ValidationError when malformed."""
        if not body and self.body_optional:
            return self.request()
        asked = self.request.model_validate_json(body)
        return None if self.waits is not None and self.waits(asked) else asked


async def _next(
    res: Resources, agent: Principal, assignment_id: int, asked: NextRequest
) -> CardOut | EmptyOut:
    return await next_customer(
        res, agent, assignment_id, segment_id=asked.segment_id, wait_seconds=asked.wait_seconds
    )


def _waits(asked: NextRequest) -> bool:
    return asked.wait_seconds > 0


NEXT = WorkRoute(
    name="next_customer",
    path="/assignments/{assignment_id}/next",
    request=NextRequest,
    response_model=CardOut | EmptyOut,
    run=_next,
    summary="Next customer",
    doc="""The next right customer, leased to you; or why there is none and when there will be.

    With `wait_seconds`, an empty answer waits up to that long and returns the moment a
    customer becomes eligible (long poll).
    """,
    body_optional=True,
    waits=_waits,
)
ATTEMPTS = WorkRoute(
    name="register_attempt",
    path="/customers/{customer_id}/attempts",
    request=AttemptRequest,
    response_model=WriteResult,
    run=writes.register_attempt,
    summary="Register an attempt",
    refuses="a call back later without a time, or an owner who cannot own the follow-up",
    doc="""No answer, or call back later at a time (only the holder of the lease).

    A call back later on a free customer becomes a shared follow-up; on a customer in a
    progressive state, a personal one (yours, or `owner_id`'s).
    """,
)
OUTCOMES = WorkRoute(
    name="register_outcome",
    path="/customers/{customer_id}/outcomes",
    request=OutcomeRequest,
    response_model=WriteResult,
    run=writes.register_outcome,
    summary="Register an outcome",
    refuses="a code the flow does not allow from the customer's state, a follow-up the "
    "outcome's rule does not allow, or a meeting that ends before it starts",
    doc="""An outcome the customer flow allows from the current state (only the holder of the
    lease). The flow decides the new state and whether a follow-up is asked for.
    """,
)
HOT_ROUTES = (NEXT, OUTCOMES, ATTEMPTS)
