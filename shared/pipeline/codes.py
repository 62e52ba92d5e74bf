"""The pipeline's fixed codes. Clients keep the codes; people read their labels (labels.py)."""

from enum import StrEnum


class RequestKind(StrEnum):
    """What a request is for (rule 30)."""

    stay = "stay"
    service = "service"
    product = "product"


class RequestStatus(StrEnum):
    new = "new"
    in_progress = "in_progress"
    offer_made = "offer_made"
    won = "won"
    lost = "lost"
    closed = "closed"


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    closed = "closed"


class Role(StrEnum):
    """Who a profile is to the organisation (seed 000, step 4); kept as the customer's
    account type, so the search shows it."""

    private_person = "private_person"
    family = "family"
    health_care_provider = "health_care_provider"
    service_provider = "service_provider"
    other = "other"


class Relation(StrEnum):
    """What the contact person is to the prospect (seed 000: "daughter of", "general
    practitioner of")."""

    child_of = "child_of"
    partner_of = "partner_of"
    parent_of = "parent_of"
    sibling_of = "sibling_of"
    relative_of = "relative_of"
    friend_or_neighbour_of = "friend_or_neighbour_of"
    legal_representative_of = "legal_representative_of"
    general_practitioner_of = "general_practitioner_of"
    care_provider_of = "care_provider_of"
    social_worker_of = "social_worker_of"
    other = "other"


class Caller(StrEnum):
    """Who is on the line (seed 000, step 3)."""

    prospect = "prospect"  # asks for themselves: also the decision-maker
    contact = "contact"  # asks for someone else: two profiles and their relation


class DecisionMaker(StrEnum):
    prospect = "prospect"
    contact = "contact"


class EventKind(StrEnum):
    """What a history entry of a request records."""

    registered = "registered"
    changed = "changed"  # status, manager, description: `changes` says which
    contact_set = "contact_set"
    task_added = "task_added"
    task_changed = "task_changed"
