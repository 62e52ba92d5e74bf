"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from shared.models.assignment import Assignment, AttemptLimitAction, PresentationMode, Segment
from shared.models.base import Base
from shared.models.bulk import BulkJob, BulkKind, BulkStatus
from shared.models.customer import BlockedPhone, Customer, CustomFieldDefinition, FieldType
from shared.models.event import Event, EventKind
from shared.models.flow import Flow
from shared.models.imports import ImportJob, ImportStatus
from shared.models.membership import FollowUpKind, Membership
from shared.models.tenant import Tenant
from shared.models.user import ApiToken, Permission, User

__all__ = [
    "ApiToken",
    "Assignment",
    "AttemptLimitAction",
    "Base",
    "BlockedPhone",
    "BulkJob",
    "BulkKind",
    "BulkStatus",
    "CustomFieldDefinition",
    "Customer",
    "Event",
    "EventKind",
    "FieldType",
    "Flow",
    "FollowUpKind",
    "ImportJob",
    "ImportStatus",
    "Membership",
    "Permission",
    "PresentationMode",
    "Segment",
    "Tenant",
    "User",
]
