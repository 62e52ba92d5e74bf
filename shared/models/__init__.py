"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

from shared.models.assignment import Assignment, AttemptLimitAction, PresentationMode, Segment
from shared.models.audit import AuditEntry
from shared.models.base import Base
from shared.models.bulk import BulkJob, BulkKind, BulkStatus
from shared.models.contact import Channel, Consent, Register, RegisterImport, RegisterNumber
from shared.models.correction import CORRECTION_STATE, Correction
from shared.models.customer import (
    BlockedPhone,
    Customer,
    CustomFieldDefinition,
    FieldType,
    Meeting,
    Product,
    ProductStatus,
)
from shared.models.dialer import AgentState, AgentStateChange, AgentStateRow, Dial, DialResult
from shared.models.event import Event, EventKind
from shared.models.flow import Flow
from shared.models.imports import ImportJob, ImportStatus
from shared.models.lease import HeldLease
from shared.models.membership import FollowUpKind, Membership
from shared.models.pipeline import (
    PipelineDelegation,
    PipelineRequest,
    PipelineRequestEvent,
    PipelineService,
    PipelineServiceMember,
    PipelineTask,
)
from shared.models.retention import RetentionPolicy
from shared.models.tenant import Tenant
from shared.models.user import ApiToken, Permission, User
from shared.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint

__all__ = [
    "CORRECTION_STATE",
    "AgentState",
    "AgentStateChange",
    "AgentStateRow",
    "ApiToken",
    "Assignment",
    "AttemptLimitAction",
    "AuditEntry",
    "Base",
    "BlockedPhone",
    "BulkJob",
    "BulkKind",
    "BulkStatus",
    "Channel",
    "Consent",
    "Correction",
    "CustomFieldDefinition",
    "Customer",
    "DeliveryStatus",
    "Dial",
    "DialResult",
    "Event",
    "EventKind",
    "FieldType",
    "Flow",
    "FollowUpKind",
    "HeldLease",
    "ImportJob",
    "ImportStatus",
    "Meeting",
    "Membership",
    "Permission",
    "PipelineDelegation",
    "PipelineRequest",
    "PipelineRequestEvent",
    "PipelineService",
    "PipelineServiceMember",
    "PipelineTask",
    "PresentationMode",
    "Product",
    "ProductStatus",
    "Register",
    "RegisterImport",
    "RegisterNumber",
    "RetentionPolicy",
    "Segment",
    "Tenant",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
]
