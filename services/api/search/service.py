"""Finding customers by name, phone, e-mail or external id (rule 4), ranked.

Names match on `Customer.search_name` (folded: lower case, no accents) so "ode" finds
"Ødegård" on every database. Exact identifiers rank first, then names where a word starts
with the query, then names that merely contain it; ties go by name, then id.
"""

import re

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth.cache import Principal
from services.api.my_work.service import visible_assignment_ids
from services.api.pagination import KeyId, Keyset, KeyText, PageRequest
from services.api.search.schemas import MatchedBy, SearchHit, SearchOut
from shared.customers.collation import sorter
from shared.customers.phones import InvalidPhone, normalise_phone
from shared.customers.search import fold
from shared.models import Assignment, Customer, Membership, Tenant

# Digits with the usual separators, and enough of them to be a number rather than a name.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")
_MIN_PHONE_DIGITS = 5
EXACT, WORD_START, CONTAINS, NO_MATCH = 0, 1, 2, 3

# The ranking's order: rank, folded name, id (a customer has one membership: one row each).
SearchKey = tuple[KeyId, KeyText, KeyId]
SEARCH: Keyset[SearchKey] = Keyset("search", SearchKey)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phone_of(text: str) -> str | None:
    if not _PHONE_LIKE.match(text) or sum(c.isdigit() for c in text) < _MIN_PHONE_DIGITS:
        return None
    try:
        return normalise_phone(text)
    except InvalidPhone:
        return None


async def tenant_locale(session: AsyncSession, tenant_id: int) -> str:
    """How the tenant's names sort (shared.customers.collation)."""
    locale = await session.scalar(select(Tenant.locale).where(Tenant.id == tenant_id))
    return locale or "nb"


class Query:
    """The conditions one query text stands for."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        self.folded = fold(self.text)
        self.phone = _phone_of(self.text)
        self.email = self.text.lower() if "@" in self.text else None

    def exact_id(self) -> ColumnElement[bool]:
        return Customer.external_id == self.text

    def exact_personal(self) -> ColumnElement[bool]:
        """Phone or e-mail; never an anonymised customer (its fields are blank anyway)."""
        conditions: list[ColumnElement[bool]] = []
        if self.phone is not None:
            conditions += [
                c == self.phone for c in (Customer.phone_1, Customer.phone_2, Customer.phone_3)
            ]
        if self.email is not None:
            conditions.append(func.lower(Customer.email) == self.email)
        return or_(false(), *conditions)

    def word_start(self) -> ColumnElement[bool]:
        if not self.folded:
            return false()
        pattern = _like_escape(self.folded)
        return or_(
            Customer.search_name.like(f"{pattern}%", escape="\\"),
            Customer.search_name.like(f"% {pattern}%", escape="\\"),
        )

    def contains(self) -> ColumnElement[bool]:
        if not self.folded:
            return false()
        return Customer.search_name.like(f"%{_like_escape(self.folded)}%", escape="\\")

    def rank(self) -> ColumnElement[int]:
        """EXACT, WORD_START, CONTAINS or NO_MATCH for each customer; anonymised customers
        match by external id only."""
        not_anonymised = Customer.anonymised_at.is_(None)
        return case(
            (self.exact_id(), literal(EXACT)),
            (and_(not_anonymised, self.exact_personal()), literal(EXACT)),
            (and_(not_anonymised, self.word_start()), literal(WORD_START)),
            (and_(not_anonymised, self.contains()), literal(CONTAINS)),
            else_=literal(NO_MATCH),
        )

    def matched_by(self, customer: Customer) -> MatchedBy:
        if customer.external_id == self.text:
            return MatchedBy.external_id
        if self.phone is not None and self.phone in customer.phones:
            return MatchedBy.phone
        if self.email is not None and (customer.email or "").lower() == self.email:
            return MatchedBy.email
        return MatchedBy.name


async def search(
    session: AsyncSession,
    principal: Principal,
    text: str,
    *,
    full: bool,
    page: PageRequest[SearchKey],
) -> SearchOut:
    """The tenant's customers matching `text`: in assignments open to the caller and in none,
    or all of them with `full`."""
    query = Query(text)
    rank = query.rank()
    scope: list[ColumnElement[bool]] = [Customer.tenant_id == principal.tenant_id]
    if not full:
        visible = await visible_assignment_ids(session, principal)
        scope.append(or_(Membership.id.is_(None), Membership.assignment_id.in_(visible)))
    statement = (
        select(Customer, Membership.assignment_id, Assignment.name, Membership.state, rank)
        .outerjoin(Membership, Membership.customer_id == Customer.id)
        .outerjoin(Assignment, Assignment.id == Membership.assignment_id)
        .where(*scope, rank < NO_MATCH)
    )
    statement = page.window(statement, rank, Customer.search_name, Customer.id)
    rows = (await session.execute(statement)).all()
    out = page.answer(
        SearchOut,
        rows,
        key=lambda row: (row[4], row[0].search_name, row[0].id),
        item=lambda row: _hit(query, row[0], row[1], row[2], row[3]),
        query=query.text,
        full=full,
    )
    # The page in the tenant's alphabet (Æ, Ø, Å after Z in Norwegian) within each rank; the
    # cursor stays the keyset's (rank, folded name, id), so pages neither skip nor repeat.
    key = sorter(await tenant_locale(session, principal.tenant_id))
    rank_of = {row[0].id: row[4] for row in rows}
    out.items.sort(key=lambda h: (rank_of[h.id], key(f"{h.last_name} {h.first_name}"), h.id))
    return out


def _hit(
    query: Query,
    c: Customer,
    assignment_id: int | None,
    assignment_name: str | None,
    state: str | None,
) -> SearchHit:
    return SearchHit(
        id=c.id,
        external_id=c.external_id,
        first_name=c.first_name,
        last_name=c.last_name,
        account_type=c.account_type,
        email=c.email,
        city=c.city,
        phones=c.phones,
        assignment_id=assignment_id,
        assignment_name=assignment_name,
        state=state,
        matched_by=query.matched_by(c),
    )
