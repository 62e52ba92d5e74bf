"""The labels of the pipeline's codes in English, French and Norwegian Bokmål.

The seeds are English and French (000-002); Norwegian because the tenants of seeds 003-004
work in it. A code missing from a language would be a bug: tests/domain/test_pipeline_rules.py
checks that every code of every group has every language.
"""

from enum import StrEnum

from shared.pipeline.codes import (
    Caller,
    DecisionMaker,
    Relation,
    RequestKind,
    RequestStatus,
    Role,
    TaskStatus,
)

LANGUAGES = ("en", "fr", "nb")
DEFAULT_LANGUAGE = "en"

# (en, fr, nb) per code.
Labels = dict[str, tuple[str, str, str]]

REQUEST_STATUS: Labels = {
    RequestStatus.new: ("New", "Nouvelle", "Ny"),
    RequestStatus.in_progress: ("In progress", "En cours", "Under arbeid"),
    RequestStatus.offer_made: ("Offer made", "Offre faite", "Tilbud gitt"),
    RequestStatus.won: ("Won", "Gagnée", "Vunnet"),
    RequestStatus.lost: ("Lost", "Perdue", "Tapt"),
    RequestStatus.closed: ("Closed", "Clôturée", "Lukket"),
}
TASK_STATUS: Labels = {
    TaskStatus.open: ("Open", "Ouverte", "Åpen"),
    TaskStatus.in_progress: ("In progress", "En cours", "Pågår"),
    TaskStatus.done: ("Done", "Terminée", "Utført"),
    TaskStatus.closed: ("Closed", "Clôturée", "Lukket"),
}
REQUEST_KIND: Labels = {
    RequestKind.stay: ("Stay", "Séjour", "Opphold"),
    RequestKind.service: ("Service", "Service", "Tjeneste"),
    RequestKind.product: ("Product", "Produit", "Produkt"),
}
ROLE: Labels = {
    Role.private_person: ("Private person", "Particulier", "Privatperson"),
    Role.family: ("Family", "Famille", "Familie"),
    Role.health_care_provider: ("Health-care provider", "Soignant", "Helsepersonell"),
    Role.service_provider: ("Service provider", "Prestataire de services", "Tjenesteleverandør"),
    Role.other: ("Other", "Autre", "Annet"),
}
RELATION: Labels = {
    Relation.child_of: ("Son or daughter of", "Fils ou fille de", "Sønn eller datter av"),
    Relation.partner_of: ("Partner of", "Partenaire de", "Partner til"),
    Relation.parent_of: ("Parent of", "Parent de", "Forelder til"),
    Relation.sibling_of: ("Brother or sister of", "Frère ou sœur de", "Bror eller søster til"),
    Relation.relative_of: ("Relative of", "Membre de la famille de", "Slektning av"),
    Relation.friend_or_neighbour_of: (
        "Friend or neighbour of",
        "Ami ou voisin de",
        "Venn eller nabo av",
    ),
    Relation.legal_representative_of: (
        "Legal representative of",
        "Représentant légal de",
        "Verge for",
    ),
    Relation.general_practitioner_of: (
        "General practitioner of",
        "Médecin de famille de",
        "Fastlege for",
    ),
    Relation.care_provider_of: ("Care provider of", "Soignant de", "Pleier for"),
    Relation.social_worker_of: ("Social worker of", "Assistant social de", "Sosialarbeider for"),
    Relation.other: ("Other", "Autre", "Annet"),
}
CALLER: Labels = {
    Caller.prospect: (
        "The prospect, for themselves",
        "Le prospect, pour lui-même",
        "Den potensielle kunden selv",
    ),
    Caller.contact: (
        "A contact person, for a prospect",
        "Une personne de contact, pour un prospect",
        "En kontaktperson, for en potensiell kunde",
    ),
}
DECISION_MAKER: Labels = {
    DecisionMaker.prospect: ("The prospect", "Le prospect", "Den potensielle kunden"),
    DecisionMaker.contact: ("The contact person", "La personne de contact", "Kontaktpersonen"),
}

GROUPS: dict[str, Labels] = {
    "request_status": REQUEST_STATUS,
    "task_status": TASK_STATUS,
    "request_kind": REQUEST_KIND,
    "role": ROLE,
    "relation": RELATION,
    "caller": CALLER,
    "decision_maker": DECISION_MAKER,
}


def label(labels: Labels, code: str | StrEnum, language: str) -> str:
    """The label of `code` in `language` (a supported one); an unknown code reads as itself
    (a customer's account type set outside the pipeline, say)."""
    found = labels.get(str(code))
    if found is None:
        return str(code)
    return found[LANGUAGES.index(language)] if language in LANGUAGES else found[0]


def group(name: str, language: str) -> list[tuple[str, str]]:
    """Every (code, label) of one group, in declaration order."""
    return [(code, label(GROUPS[name], code, language)) for code in GROUPS[name]]
