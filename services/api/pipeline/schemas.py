"""Request and response bodies of the care pipeline (/v1/pipeline)."""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.api.fields import DbId, Flag, Name, Text
from services.api.pagination import Page
from services.api.patch import Patch
from services.api.users.schemas import Language
from shared.pipeline.codes import (
    Caller,
    DecisionMaker,
    Relation,
    RequestKind,
    RequestStatus,
    Role,
    TaskStatus,
)

Description = Annotated[Text, Field(max_length=4000)]
Title = Annotated[Text, Field(min_length=1, max_length=300)]

# The examples the models below show in the schema (decision 027).
USER_REF: dict[str, Any] = {"id": 7, "name": "Kari Nordmann"}
SERVICE_REF: dict[str, Any] = {
    "id": 2,
    "name": "Home care Oslo east",
    "department": "Home care",
    "region": "Oslo",
}
PROFILE_IN: dict[str, Any] = {
    "first_name": "Ola",
    "last_name": "Nordmann",
    "phone": "+4791234567",
    "language": "nb",
    "role": "private_person",
    "city": "Oslo",
}
PROFILE_OUT: dict[str, Any] = {
    "id": 1042,
    "external_id": "P-3f2a9c0d1e4b",
    "first_name": "Ola",
    "last_name": "Nordmann",
    "email": None,
    "phones": ["+4791234567"],
    "language": "nb",
    "role": {"code": "private_person", "label": "Private person"},
    "city": "Oslo",
}
REQUEST_OUT: dict[str, Any] = {
    "id": 31,
    "kind": {"code": "service", "label": "Service"},
    "service": SERVICE_REF,
    "status": {"code": "new", "label": "New"},
    "description": "Needs help with shopping twice a week",
    "prospect": PROFILE_OUT,
    "contact": None,
    "relation": None,
    "decision_maker": {"code": "prospect", "label": "The prospect"},
    "registered_by": USER_REF,
    "manager": USER_REF,
    "acting_manager": USER_REF,
    "created_at": "2026-12-05T09:00:00Z",
    "updated_at": "2026-12-05T09:00:00Z",
}
TASK_OUT: dict[str, Any] = {
    "id": 12,
    "request_id": 31,
    "title": "Home visit",
    "executor": USER_REF,
    "status": {"code": "open", "label": "Open"},
    "due_at": "2026-12-08T10:00:00Z",
    "overdue": False,
    "notes": "",
    "created_by": USER_REF,
    "follows_task_id": None,
    "created_at": "2026-12-05T09:05:00Z",
    "updated_at": "2026-12-05T09:05:00Z",
}


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


def _closed(*examples: dict[str, Any]) -> ConfigDict:
    """A request body's config: its examples, and unknown fields refused."""
    return ConfigDict(json_schema_extra={"examples": list(examples)}, extra="forbid")


class Coded(BaseModel):
    """A fixed code and its label in the caller's language."""

    code: str
    label: str


class UserRef(BaseModel):
    id: int
    name: str


class LabelsOut(BaseModel):
    """Every fixed code of the pipeline with its label, in `language`."""

    model_config = _examples(
        {"language": "en", "groups": {"status": [{"code": "new", "label": "New"}]}}
    )

    language: str
    groups: dict[str, list[Coded]]


# ---------------------------------------------------------------- contacts and prospects


class ProfileIn(BaseModel):
    """A new contact or prospect: names, an e-mail or a phone (or both), a language and a
    role are required (seed 000, step 4)."""

    model_config = _closed(PROFILE_IN)

    first_name: Annotated[Text, Field(min_length=1, max_length=200)]
    last_name: Annotated[Text, Field(min_length=1, max_length=200)]
    email: Annotated[Text, Field(max_length=320)] | None = None
    phone: Annotated[Text, Field(max_length=40)] | None = None
    language: Language
    role: Role
    city: Annotated[Text, Field(max_length=200)] = ""
    # Left out: one is made up ("P-" and 12 hex digits); customers need one (rule 2).
    external_id: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    custom: dict[Annotated[Text, Field(max_length=100)], Any] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not (self.email or "").strip() and not (self.phone or "").strip():
            raise ValueError("give an e-mail address or a phone number")
        return self


class ProfileRef(BaseModel):
    """An existing profile (`id`) or a new one (`new`)."""

    model_config = _closed({"id": 1042}, {"new": PROFILE_IN})

    id: DbId | None = None
    new: ProfileIn | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.id is None) == (self.new is None):
            raise ValueError("give either 'id' (an existing profile) or 'new' (a new one)")
        return self


class ProfileOut(BaseModel):
    model_config = _examples(PROFILE_OUT)

    id: int
    external_id: str
    first_name: str
    last_name: str
    email: str | None
    phones: list[str]
    language: str | None
    role: Coded
    city: str


class ContactHits(Page[ProfileOut]):
    """The best hits first, and how many there are in all ("+ N more" on the first page)."""

    model_config = _examples(
        {"query": "nordm", "total": 1, "items": [PROFILE_OUT], "limit": 10, "next": None}
    )

    query: str
    total: int


# ---------------------------------------------------------------- catalogue and colleagues


class ServiceIn(BaseModel):
    model_config = _closed(
        {
            "kind": "service",
            "name": "Home care Oslo east",
            "department": "Home care",
            "region": "Oslo",
            "member_ids": [7],
        }
    )

    kind: RequestKind
    name: Name
    department: Annotated[Text, Field(max_length=200)] = ""
    region: Annotated[Text, Field(max_length=200)] = ""
    member_ids: list[DbId] = Field(default_factory=list, max_length=1000)


class ServiceChange(Patch):
    """Only the fields sent change; `member_ids` replaces the colleagues."""

    model_config = _closed({"member_ids": [7, 9]}, {"active": False})

    kind: RequestKind | None = None
    name: Name | None = None
    department: Annotated[Text, Field(max_length=200)] | None = None
    region: Annotated[Text, Field(max_length=200)] | None = None
    active: Flag | None = None
    member_ids: list[DbId] | None = Field(default=None, max_length=1000)


class ServiceOut(BaseModel):
    model_config = _examples(
        {
            **SERVICE_REF,
            "kind": {"code": "service", "label": "Service"},
            "active": True,
            "members": [USER_REF],
        }
    )

    id: int
    kind: Coded
    name: str
    department: str
    region: str
    active: bool
    members: list[UserRef]


class ServiceRef(BaseModel):
    id: int
    name: str
    department: str
    region: str


class ColleagueOut(BaseModel):
    model_config = _examples(
        {"user": USER_REF, "team": "Oslo", "services": [SERVICE_REF], "matched_by": "service"}
    )

    user: UserRef
    team: str
    services: list[ServiceRef]
    matched_by: str  # "name" or "service"


# ---------------------------------------------------------------- requests


class RequestIn(BaseModel):
    """A new request (seed 000): who calls, the prospect, the contact person if someone calls
    for the prospect, what for, and who manages it (default: the caller of this API)."""

    model_config = _closed(
        {
            "kind": "service",
            "service_id": 2,
            "description": "Needs help with shopping twice a week",
            "caller": "prospect",
            "prospect": {"new": PROFILE_IN},
        }
    )

    kind: RequestKind
    service_id: DbId | None = None
    description: Description = ""
    caller: Caller
    prospect: ProfileRef
    contact: ProfileRef | None = None
    relation: Relation | None = None
    decision_maker: DecisionMaker | None = Field(
        default=None, description="Default: whoever calls (seed 000, step 3)."
    )
    manager_id: DbId | None = None

    @model_validator(mode="after")
    def _caller_shape(self) -> Self:
        if self.caller == Caller.contact and (self.contact is None or self.relation is None):
            raise ValueError("a contact person calling needs 'contact' and 'relation'")
        if self.caller == Caller.prospect and self.contact is not None:
            raise ValueError("the prospect calls for themselves: no 'contact' (add one later)")
        if self.caller == Caller.prospect and self.decision_maker == DecisionMaker.contact:
            raise ValueError("without a contact person the prospect is the decision-maker")
        return self


class RequestChange(Patch):
    """Only the fields sent change: the status, the manager (hand it to a colleague), the
    free text."""

    model_config = _closed({"status": "in_progress"}, {"manager_id": 9})

    status: RequestStatus | None = None
    manager_id: DbId | None = None
    description: Description | None = None


class ContactIn(BaseModel):
    """A contact person added to a request later (seed 000, "completion afterwards")."""

    model_config = _closed(
        {
            "contact": {"new": {**PROFILE_IN, "first_name": "Kari", "role": "family"}},
            "relation": "child_of",
            "decision_maker": "contact",
        }
    )

    contact: ProfileRef
    relation: Relation
    decision_maker: DecisionMaker | None = None


class HistoryOut(BaseModel):
    id: int
    kind: str
    user: UserRef | None
    changes: dict[str, Any]
    created_at: datetime


class RequestOut(BaseModel):
    model_config = _examples(REQUEST_OUT)

    id: int
    kind: Coded
    service: ServiceRef | None
    status: Coded
    description: str
    prospect: ProfileOut
    contact: ProfileOut | None
    relation: Coded | None
    decision_maker: Coded
    registered_by: UserRef
    manager: UserRef
    # Whoever handles it now: the manager, or their stand-in during a delegation.
    acting_manager: UserRef
    created_at: datetime
    updated_at: datetime


class TaskOut(BaseModel):
    model_config = _examples(TASK_OUT)

    id: int
    request_id: int
    title: str
    executor: UserRef
    status: Coded
    due_at: datetime | None
    overdue: bool
    notes: str
    created_by: UserRef
    follows_task_id: int | None
    created_at: datetime
    updated_at: datetime


class RequestDetails(RequestOut):
    model_config = _examples(
        {
            **REQUEST_OUT,
            "tasks": [TASK_OUT],
            "history": [
                {
                    "id": 55,
                    "kind": "registered",
                    "user": USER_REF,
                    "changes": {},
                    "created_at": "2026-12-05T09:00:00Z",
                }
            ],
        }
    )

    tasks: list[TaskOut]
    # Newest first, the last HISTORY_ROWS changes.
    history: list[HistoryOut]


# ---------------------------------------------------------------- tasks


class TaskIn(BaseModel):
    model_config = _closed(
        {"title": "Home visit", "executor_id": 7, "due_at": "2026-12-08T10:00:00Z"}
    )

    title: Title
    executor_id: DbId | None = Field(default=None, description="Default: yourself.")
    due_at: AwareDatetime | None = None
    notes: Description = ""
    follows_task_id: DbId | None = Field(
        default=None, description="A follow-up of this task of the same request."
    )


class TaskChange(Patch):
    """Only the fields sent change; a null `due_at` removes the due time."""

    nullable = frozenset({"due_at"})

    model_config = _closed({"status": "done", "notes": "Visited, all arranged"})

    title: Title | None = None
    executor_id: DbId | None = None
    status: TaskStatus | None = None
    due_at: AwareDatetime | None = None
    notes: Description | None = None


# ---------------------------------------------------------------- delegations


class DelegationIn(BaseModel):
    """Hand all your requests to a colleague for an absence; they come back by themselves at
    `ends_at`. A team lead (pipeline_admin) names `from_user_id` for an unplanned absence."""

    model_config = _closed({"to_user_id": 9, "ends_at": "2026-12-20T16:00:00Z"})

    to_user_id: DbId
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now.")
    ends_at: AwareDatetime
    from_user_id: DbId | None = Field(default=None, description="Default: yourself.")


class DelegationOut(BaseModel):
    model_config = _examples(
        {
            "id": 4,
            "from_user": USER_REF,
            "to_user": {"id": 9, "name": "Per Hansen"},
            "starts_at": "2026-12-06T09:00:00Z",
            "ends_at": "2026-12-20T16:00:00Z",
            "active": True,
            "created_by": USER_REF,
        }
    )

    id: int
    from_user: UserRef
    to_user: UserRef
    starts_at: datetime
    ends_at: datetime
    active: bool
    created_by: UserRef


# ---------------------------------------------------------------- My Work


class PipelineWork(BaseModel):
    """The pipeline's part of My Work: new requests you handle (also told in your event
    stream), your open tasks, and overdue tasks of the requests you handle."""

    model_config = _examples(
        {
            "new_requests": {"items": [REQUEST_OUT], "limit": 10, "next": None},
            "new_requests_total": 1,
            "open_tasks": 3,
            "overdue_tasks": 0,
        }
    )

    # The first page of GET /v1/pipeline/requests?mine=true&status=new; `next` continues it.
    new_requests: Page[RequestOut]
    new_requests_total: int
    open_tasks: int
    overdue_tasks: int
