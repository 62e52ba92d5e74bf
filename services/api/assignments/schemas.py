"""Request and response bodies of /v1/assignments and their segments."""

from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.api.fields import DbId, Flag, Name, Text, TimeZone
from services.api.patch import Patch
from shared.calling.rules import CallingRules
from shared.infra.timeutil import as_utc
from shared.models import AttemptLimitAction, PresentationMode

SORT_KEY_PATTERN = r"^(attempts|last_attempt_at|import_order|custom:[a-z][a-z0-9_]{0,99})$"
HOUR_MINUTE_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CUSTOM_PREFIX = "custom:"


class SortKey(BaseModel):
    """One ordering key of free customers; import order always breaks remaining ties."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[
        str,
        Field(
            pattern=SORT_KEY_PATTERN,
            description="attempts | last_attempt_at | import_order | custom:<field key>",
        ),
    ]
    direction: Literal["asc", "desc"] = "asc"

    @property
    def custom_field(self) -> str | None:
        return self.key.removeprefix(CUSTOM_PREFIX) if self.key.startswith(CUSTOM_PREFIX) else None


def _distinct(keys: list[SortKey]) -> list[SortKey]:
    names = [k.key for k in keys]
    if len(set(names)) != len(names):
        raise ValueError("each sort key may appear once")
    return keys


SortKeys = Annotated[list[SortKey], Field(max_length=3), AfterValidator(_distinct)]
AttemptLimit = Annotated[int, Field(ge=1, le=1_000_000)]
CooldownSeconds = Annotated[int, Field(ge=0, le=366 * 86_400)]
LeaseSeconds = Annotated[int, Field(ge=10, le=86_400)]
# Predictive pacing's ceiling on abandoned / live-answered calls (rule 36): 3 % by default,
# the UK regulator's figure; more than half would not be a cap.
AbandonCap = Annotated[float, Field(gt=0, le=0.5, allow_inf_nan=False)]
HourMinute = Annotated[str, Field(pattern=HOUR_MINUTE_PATTERN, description="HH:MM, 24-hour")]
TimeZoneName = Annotated[TimeZone, Field(examples=["Europe/Oslo"])]
UserIds = Annotated[list[DbId], Field(max_length=10_000)]
ExemptField = Annotated[Text, Field(min_length=1, max_length=100, examples=["customer_since"])]


def settings_problem(
    *,
    contact_hours_start: str | None,
    contact_hours_end: str | None,
    visible_from: datetime | None,
    visible_until: datetime | None,
    calling_rules: object | None = None,
) -> str | None:
    """What is wrong across fields of an assignment's settings, if anything."""
    if calling_rules is not None and contact_hours_start is not None:
        return (
            "contact hours are the one-window case of calling rules: "
            "set calling_rules or contact hours, not both"
        )
    if (contact_hours_start is None) != (contact_hours_end is None):
        return "contact_hours_start and contact_hours_end are set together or not at all"
    if contact_hours_start is not None and contact_hours_start == contact_hours_end:
        return "contact hours must not start and end at the same time"
    if (
        visible_from is not None
        and visible_until is not None
        and as_utc(visible_from) >= as_utc(visible_until)
    ):
        return "visible_from must be before visible_until"
    return None


class AssignmentCreate(BaseModel):
    """An assignment's settings (rule 8)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Spring campaign",
                    "flow_id": 1,
                    "presentation_mode": "preview",
                    "attempt_limit": 5,
                    "cooldown_seconds": 3600,
                    "sort_keys": [{"key": "attempts", "direction": "asc"}],
                    "contact_hours_start": "09:00",
                    "contact_hours_end": "21:00",
                    "default_time_zone": "Europe/Oslo",
                }
            ]
        },
        extra="forbid",
    )

    name: Name
    flow_id: DbId = Field(description="One of the tenant's flows.")
    presentation_mode: PresentationMode = PresentationMode.preview
    attempt_limit: AttemptLimit | None = None
    attempt_limit_action: AttemptLimitAction = AttemptLimitAction.last
    cooldown_seconds: CooldownSeconds = 0
    lease_seconds: LeaseSeconds = 300
    sort_keys: SortKeys = Field(default_factory=list)
    personal_followups_first: Flag = True
    personal_followup_fallback_minutes: int | None = Field(default=None, ge=1, le=525_600)
    contact_hours_start: HourMinute | None = None
    contact_hours_end: HourMinute | None = None
    calling_rules: CallingRules | None = Field(
        default=None,
        description='Weekly windows, holidays and closed days; {"preset": "NO"} or '
        '{"preset": "FR"} for the national rules. Exclusive with contact hours.',
    )
    callbacks_break_rules: Flag = Field(
        default=False,
        description="Promised call-backs are served at their time even outside the calling "
        "rules; the event records it.",
    )
    register_exempt_field: ExemptField | None = Field(
        default=None,
        description="Existing customers, exempt from do-not-call registers where the law "
        "allows it: those with a value in this custom field. Null: registers apply to all.",
    )
    consent_required: Flag = Field(
        default=False, description="Only customers who gave phone consent are served."
    )
    abandon_cap: AbandonCap = 0.03
    default_time_zone: TimeZoneName = "UTC"
    visible_to_all: Flag = True
    visible_user_ids: UserIds = Field(default_factory=list)
    visible_from: AwareDatetime | None = None
    visible_until: AwareDatetime | None = None
    active: Flag = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problem = settings_problem(
            contact_hours_start=self.contact_hours_start,
            contact_hours_end=self.contact_hours_end,
            visible_from=self.visible_from,
            visible_until=self.visible_until,
            calling_rules=self.calling_rules,
        )
        if problem:
            raise ValueError(problem)
        return self


# Fields a PATCH may set to null; the others keep a value once the assignment exists.
NULLABLE = frozenset(
    {
        "attempt_limit",
        "contact_hours_start",
        "contact_hours_end",
        "calling_rules",
        "register_exempt_field",
        "visible_from",
        "visible_until",
    }
)


class AssignmentUpdate(Patch):
    """Only the fields sent change; the result must still be consistent."""

    nullable = NULLABLE

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"cooldown_seconds": 1800, "attempt_limit": None}, {"active": False}]
        },
        extra="forbid",
    )

    name: Name | None = None
    flow_id: DbId | None = None
    presentation_mode: PresentationMode | None = None
    attempt_limit: AttemptLimit | None = None
    attempt_limit_action: AttemptLimitAction | None = None
    cooldown_seconds: CooldownSeconds | None = None
    lease_seconds: LeaseSeconds | None = None
    sort_keys: SortKeys | None = None
    personal_followups_first: Flag | None = None
    personal_followup_fallback_minutes: int | None = Field(default=None, ge=1, le=525_600)
    contact_hours_start: HourMinute | None = None
    contact_hours_end: HourMinute | None = None
    calling_rules: CallingRules | None = None
    callbacks_break_rules: Flag | None = None
    register_exempt_field: ExemptField | None = None
    consent_required: Flag | None = None
    abandon_cap: AbandonCap | None = None
    default_time_zone: TimeZoneName | None = None
    visible_to_all: Flag | None = None
    visible_user_ids: UserIds | None = None
    visible_from: AwareDatetime | None = None
    visible_until: AwareDatetime | None = None
    active: Flag | None = None


def column_values(model: BaseModel, *, only_set: bool = False) -> dict[str, Any]:
    """The model's fields as ORM column values: enums as their values, models as dicts."""
    values = model.model_dump(exclude_unset=only_set)
    return {k: v.value if isinstance(v, Enum) else v for k, v in values.items()}


class QueueCounts(BaseModel):
    """Live counts of the assignment's queue in Redis."""

    free: int = Field(description="Free customers ready to be served now.")
    in_cooldown: int
    shared_followups: int = Field(description="Shared follow-ups waiting for their time.")
    personal_followups: int
    at_attempt_limit: int = Field(description="Stopped at the attempt limit.")
    blocked: int = Field(description="Every phone number blocked.")
    held: int = Field(description="Leased to an agent now.")


ASSIGNMENT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "name": "Spring campaign",
    "flow_id": 1,
    "presentation_mode": "preview",
    "attempt_limit": 5,
    "attempt_limit_action": "last",
    "cooldown_seconds": 3600,
    "lease_seconds": 300,
    "sort_keys": [{"key": "attempts", "direction": "asc"}],
    "personal_followups_first": True,
    "personal_followup_fallback_minutes": None,
    "contact_hours_start": "09:00",
    "contact_hours_end": "21:00",
    "calling_rules": None,
    "callbacks_break_rules": False,
    "register_exempt_field": None,
    "consent_required": False,
    "abandon_cap": 0.03,
    "default_time_zone": "Europe/Oslo",
    "visible_to_all": True,
    "visible_user_ids": [],
    "visible_from": None,
    "visible_until": None,
    "active": True,
    "created_at": "2026-12-01T08:00:00Z",
}


class AssignmentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [ASSIGNMENT_EXAMPLE]},
        from_attributes=True,
    )

    id: int
    name: str
    flow_id: int
    presentation_mode: PresentationMode
    attempt_limit: int | None
    attempt_limit_action: AttemptLimitAction
    cooldown_seconds: int
    lease_seconds: int
    sort_keys: list[SortKey]
    personal_followups_first: bool
    personal_followup_fallback_minutes: int | None
    contact_hours_start: str | None
    contact_hours_end: str | None
    calling_rules: CallingRules | None
    callbacks_break_rules: bool
    register_exempt_field: str | None
    consent_required: bool
    abandon_cap: float
    default_time_zone: str
    visible_to_all: bool
    visible_user_ids: list[int]
    visible_from: datetime | None
    visible_until: datetime | None
    active: bool
    created_at: datetime


class AssignmentDetail(AssignmentOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **ASSIGNMENT_EXAMPLE,
                    "queue": {
                        "free": 1840,
                        "in_cooldown": 210,
                        "shared_followups": 12,
                        "personal_followups": 31,
                        "at_attempt_limit": 4,
                        "blocked": 2,
                        "held": 17,
                    },
                }
            ]
        }
    )

    queue: QueueCounts


class SegmentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Oslo, high score"}]}, extra="forbid"
    )

    name: Name


class SegmentOut(BaseModel):
    """A segment and how many customers it holds; id null is the default "unsegmented"."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "name": "Oslo, high score",
                    "size": 420,
                    "created_at": "2026-12-01T08:10:00Z",
                }
            ]
        }
    )

    id: int | None
    name: str
    size: int
    created_at: datetime | None
