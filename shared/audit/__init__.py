"""The audit log (issue 15 point 6, decision 034): what was read, searched and changed, by whom.

`record` adds one entry to the caller's unit of work, so a change and its entry commit
together or not at all. Entries hold ids, action names, field names and counts, never
personal data (names, numbers, e-mail addresses, search queries).
"""

from shared.audit.actions import CATEGORIES, AuditAction, Category, actions_of
from shared.audit.record import Actor, record

__all__ = ["CATEGORIES", "Actor", "AuditAction", "Category", "actions_of", "record"]
