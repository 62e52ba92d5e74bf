"""Who may use the pipeline (its permission bundle, decision 028), its clock and the caller's
language.

- pipeline_register: intake employees: search and create profiles, register requests;
- pipeline_manage: relationship managers and task executors: work the requests they manage
  and the tasks they execute, delegate during an absence;
- pipeline_admin: team leads: the catalogue, any request and task, other people's delegations.
Any of the three reads the tenant's requests and tasks (the seeds' teamwork: colleagues of
other departments find the same people). Administrators pass every check.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header

from services.api.access import require_any
from services.api.auth.cache import Principal
from services.api.deps import require
from shared.models import Permission
from shared.pipeline.languages import choose

_REGISTER, _MANAGE, _ADMIN = (
    Permission.pipeline_register,
    Permission.pipeline_manage,
    Permission.pipeline_admin,
)

Reader = Annotated[Principal, require_any(_REGISTER, _MANAGE, _ADMIN)]
Intake = Annotated[Principal, require_any(_REGISTER, _ADMIN)]
Manager = Annotated[Principal, require_any(_MANAGE, _ADMIN)]
PipelineAdmin = Annotated[Principal, require(_ADMIN)]


def administers(principal: Principal) -> bool:
    return principal.has(_ADMIN.value)


def may_manage(permissions: list[str] | frozenset[str]) -> bool:
    """Whether a user holding these may manage requests and execute tasks."""
    return any(p in permissions for p in (_MANAGE.value, _ADMIN.value, "administrator"))


async def current_time() -> datetime:
    """The pipeline's clock: delegations start and end by it. One dependency, so that tests
    can set the time instead of waiting for it. (async: a plain def would run in a worker
    thread on every request.)"""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(current_time)]


async def language(
    principal: Reader,
    # Not bounded here: an overlong header is ignored (languages.MAX_HEADER), not refused.
    accept_language: Annotated[str | None, Header()] = None,
) -> str:
    """The caller's profile language if the labels have it, else Accept-Language's, else en."""
    return choose(principal.language, accept_language)


Lang = Annotated[str, Depends(language)]
