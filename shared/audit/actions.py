"""Every action the audit log records, and the category each belongs to."""

from enum import StrEnum


class Category(StrEnum):
    access = "access"  # reads of personal data: details, history, full searches
    change = "change"  # who may do what, and how work is set up
    privacy = "privacy"  # the privacy log: exports, anonymisations, retention


class AuditAction(StrEnum):
    customer_read = "customer.read"
    customer_history_read = "customer.history_read"
    customer_searched_full = "customer.searched_full"
    user_created = "user.created"
    user_changed = "user.changed"
    token_created = "token.created"
    token_revoked = "token.revoked"
    flow_created = "flow.created"
    assignment_created = "assignment.created"
    assignment_changed = "assignment.changed"
    segment_created = "segment.created"
    blocklist_added = "blocklist.added"
    blocklist_removed = "blocklist.removed"
    register_created = "register.created"
    register_deleted = "register.deleted"
    register_imported = "register.imported"
    privacy_notice_changed = "privacy.notice_changed"
    customer_exported = "privacy.customer_exported"
    customer_anonymised = "privacy.customer_anonymised"
    retention_changed = "privacy.retention_changed"
    retention_run = "privacy.retention_run"


_ACCESS = frozenset(
    {
        AuditAction.customer_read,
        AuditAction.customer_history_read,
        AuditAction.customer_searched_full,
    }
)


def category_of(action: AuditAction) -> Category:
    if action in _ACCESS:
        return Category.access
    if action.value.startswith("privacy."):
        return Category.privacy
    return Category.change


CATEGORIES: dict[Category, frozenset[AuditAction]] = {
    c: frozenset(a for a in AuditAction if category_of(a) == c) for c in Category
}


def actions_of(category: Category) -> list[str]:
    return sorted(a.value for a in CATEGORIES[category])
