"""The demo data of `nextcall demo` and `nextcall up`: one tenant, its users, one campaign and
10,000 Norwegian customers, loaded once.

Only token hashes are stored in the database, so the tokens are written to
`<data_dir>/demo-tokens.json` when the demo is created, and printed from there at every start.
"""

import json
import os
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from redis.asyncio import Redis
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.demo_pipeline import PIPELINE_PERMISSIONS, load_pipeline_demo
from services.worker.jobs.rebuild import rebuild_queue
from shared.customers.search import search_name
from shared.demo import SEED_FLOW
from shared.flows import FlowSpec
from shared.infra.db import unit_of_work
from shared.infra.settings import Settings
from shared.infra.tokens import hash_token, new_token
from shared.models import (
    ApiToken,
    Assignment,
    Base,
    Customer,
    Event,
    EventKind,
    Flow,
    Membership,
    Permission,
    PresentationMode,
    Tenant,
    User,
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEMO_TENANT = "Demo"
DEMO_CUSTOMERS = 10_000
# The predictive campaign a simulated dialer works (`nextcall up --simulate`, decision 040).
PREDICTIVE_NAME = "Demo predictive campaign"
PREDICTIVE_CUSTOMERS = 2_000
# Rows per INSERT statement: well under SQLite's limit of 32,766 bound parameters.
INSERT_CHUNK = 2000

FIRST_NAMES = _words(
    "Ole Lars Jan Per Bjørn Kjell Knut Arne Svein Hans Geir Thomas Martin Jonas Magnus Håkon "
    "Øyvind Eirik Sindre Even Ådne Jørgen Stian Morten Terje Rune Vegard Anders Henrik Sander "
    "Anne Inger Kari Marit Ingrid Liv Eva Berit Astrid Bjørg Hilde Nina Ida Nora Emma Sofie Thea "
    "Ingeborg Solveig Ragnhild Åse Sigrid Maja Tuva Hanne Silje Kristin Torunn Guro Marte Synnøve"
)
LAST_NAMES = _words(
    "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen Johnsen "
    "Pettersen Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl Jørgensen Halvorsen "
    "Henriksen Lund Sørensen Jakobsen Moen Gundersen Iversen Strand Solberg Svendsen Eide Knutsen "
    "Martinsen Paulsen Bakken Kristoffersen Mathisen Lie Amundsen Nguyen Rasmussen Ali Lunde "
    "Solheim Berge Moe Nygård Bakke Kristensen Fredriksen Holm Lien Hauge Christensen Andresen "
    "Nielsen Knudsen Evensen Sæther Aas Myhre Hanssen Ødegård Aasen Haugland Thorsen Brekke "
    "Hovland Næss Tveit Engen Sandvik Løken Bråthen Østby Grønlund Fjeld"
)
CITIES = _words(
    "Oslo Bergen Trondheim Stavanger Kristiansand Drammen Fredrikstad Sandnes Tromsø Sarpsborg "
    "Skien Ålesund Bodø Lillehammer Hamar Molde Haugesund Tønsberg Moss Arendal Gjøvik Harstad "
    "Narvik Alta Kongsberg Halden Larvik Steinkjer"
)
MAIL_DOMAINS = ("example.com", "example.net", "example.org")

SUPERVISOR_PERMISSIONS = (
    Permission.assignment_setup,
    Permission.reporting,
    Permission.extended_handling,
    Permission.customer_handling,
    Permission.correction,
)


@dataclass(frozen=True, slots=True)
class DemoUser:
    key: str  # admin | supervisor | agent1 | agent2 | agent3
    name: str
    user_id: int
    permissions: list[str]
    token: str


@dataclass(frozen=True, slots=True)
class DemoInfo:
    tenant_id: int
    assignment_id: int
    users: list[DemoUser]

    def token(self, key: str) -> str:
        return next(u.token for u in self.users if u.key == key)


def tokens_path(settings: Settings) -> Path:
    return settings.data_dir / "demo-tokens.json"


def read_demo_info(settings: Settings) -> DemoInfo | None:
    """The tokens written when the demo was created; None if this data dir has none."""
    path = tokens_path(settings)
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return DemoInfo(
        tenant_id=raw["tenant_id"],
        assignment_id=raw["assignment_id"],
        users=[DemoUser(**u) for u in raw["users"]],
    )


def _write_demo_info(settings: Settings, info: DemoInfo) -> None:
    path = tokens_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # tokens: owner only
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(info), f, indent=2)
    tmp.replace(path)


async def load_demo(
    settings: Settings,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    redis: Redis,
    customers: int = DEMO_CUSTOMERS,
) -> DemoInfo | None:
    """Create the demo tenant and place its customers; None when it exists already."""
    async with unit_of_work(sessionmaker) as session:
        if await session.scalar(select(Tenant.id).where(Tenant.name == DEMO_TENANT)) is not None:
            return None
        info = await _create(session, customers=customers)
    _write_demo_info(settings, info)
    await rebuild_queue(info.assignment_id, sessionmaker=sessionmaker, redis=redis)
    return info


async def _create(session: AsyncSession, *, customers: int) -> DemoInfo:
    tenant = Tenant(
        name=DEMO_TENANT,
        data_controller="Demo Energi AS, Storgata 1, 0155 Oslo (org. nr. 999 999 999)",
        processing_purpose=(
            "Telephone sales of electricity contracts to existing customers, "
            "on the basis of legitimate interest (GDPR art. 6(1)(f))."
        ),
    )
    session.add(tenant)
    await session.flush()
    spec = FlowSpec.model_validate(SEED_FLOW)
    flow = Flow(
        tenant_id=tenant.id,
        name="Sales",
        states=[s.model_dump(mode="json") for s in spec.states],
        outcomes=[o.model_dump(mode="json") for o in spec.outcomes],
    )
    session.add(flow)
    await session.flush()
    assignment = await _assignment(
        session, tenant.id, flow.id, "Demo campaign", PresentationMode.preview
    )
    supervisor = (*SUPERVISOR_PERMISSIONS, *PIPELINE_PERMISSIONS["supervisor"])
    users = [
        await _user(session, tenant, "admin", "Ada Admin", [Permission.administrator]),
        await _user(session, tenant, "supervisor", "Siri Supervisor", supervisor),
    ]
    for i, name in enumerate(("Anders Berg", "Ingrid Solheim", "Jonas Nygård"), start=1):
        granted = [Permission.customer_handling, *PIPELINE_PERMISSIONS[f"agent{i}"]]
        users.append(await _user(session, tenant, f"agent{i}", name, granted))
    await _customers(session, tenant_id=tenant.id, assignment_id=assignment.id, count=customers)
    await load_pipeline_demo(session, tenant, {u.key: u.user_id for u in users})
    return DemoInfo(tenant_id=tenant.id, assignment_id=assignment.id, users=users)


async def load_predictive_demo(
    settings: Settings, *, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis
) -> int | None:
    """The demo's predictive campaign with customers of its own, made once; its id (None with
    no demo). The preview campaign, where agents take customers by hand, stays as it is."""
    info = read_demo_info(settings)
    if info is None:
        return None
    async with unit_of_work(sessionmaker) as session:
        found = await session.scalar(
            select(Assignment.id).where(
                Assignment.tenant_id == info.tenant_id, Assignment.name == PREDICTIVE_NAME
            )
        )
        if found is not None:
            return int(found)
        demo = await session.get(Assignment, info.assignment_id)
        if demo is None:
            return None
        assignment = await _assignment(
            session, info.tenant_id, demo.flow_id, PREDICTIVE_NAME, PresentationMode.predictive
        )
        await _customers(
            session,
            tenant_id=info.tenant_id,
            assignment_id=assignment.id,
            count=PREDICTIVE_CUSTOMERS,
            seed=2025,
            prefix="DEMOP",
        )
        made = assignment.id
    await rebuild_queue(made, sessionmaker=sessionmaker, redis=redis)
    return made


async def _assignment(
    session: AsyncSession, tenant_id: int, flow_id: int, name: str, mode: PresentationMode
) -> Assignment:
    assignment = Assignment(
        tenant_id=tenant_id,
        name=name,
        flow_id=flow_id,
        presentation_mode=mode.value,
        lease_seconds=300,
        cooldown_seconds=60,
        attempt_limit=5,
        sort_keys=[
            {"key": "attempts", "direction": "asc"},
            {"key": "last_attempt_at", "direction": "asc"},
        ],
        default_time_zone="Europe/Oslo",
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def _user(
    session: AsyncSession,
    tenant: Tenant,
    key: str,
    name: str,
    permissions: Any,
) -> DemoUser:
    granted = [Permission(p).value for p in permissions]
    email = f"{_ascii(name).lower().replace(' ', '.')}@demo.example.com"
    user = User(tenant_id=tenant.id, name=name, email=email, team="Demo", permissions=granted)
    session.add(user)
    await session.flush()
    token = new_token()
    session.add(
        ApiToken(tenant_id=tenant.id, user_id=user.id, name="demo", token_hash=hash_token(token))
    )
    return DemoUser(key=key, name=name, user_id=user.id, permissions=granted, token=token)


async def _customers(
    session: AsyncSession,
    *,
    tenant_id: int,
    assignment_id: int,
    count: int,
    seed: int = 2024,
    prefix: str = "DEMO",
) -> None:
    """Core bulk inserts (no ORM objects, no RETURNING): 10,000 customers in about a second."""
    now = datetime.now(UTC)
    rows = demo_customers(count, seed=seed, prefix=prefix)
    for row in rows:
        # Core inserts skip the ORM hook that folds names for search: fold them here.
        row.update(
            tenant_id=tenant_id,
            created_at=now,
            updated_at=now,
            search_name=search_name(row["first_name"], row["last_name"]),
        )
    for chunk in _chunks(rows):
        await session.execute(insert(_table(Customer)), chunk)
    found = await session.execute(
        select(Customer.id)
        .where(Customer.tenant_id == tenant_id, Customer.external_id.like(f"{prefix}-%"))
        .order_by(Customer.id)
    )
    ids = list(found.scalars())
    memberships = [
        {
            "tenant_id": tenant_id,
            "customer_id": cid,
            "assignment_id": assignment_id,
            "state": "free",
            "state_set_by": "import",
            "state_set_at": now,
            "version": 1,
            "attempts": 0,
            "created_at": now,
        }
        for cid in ids
    ]
    for chunk in _chunks(memberships):
        await session.execute(insert(_table(Membership)), chunk)
    events = [
        {
            "tenant_id": tenant_id,
            "customer_id": cid,
            "assignment_id": assignment_id,
            "kind": EventKind.imported.value,
            "to_state": "free",
            "comment": "",
            "data": {"source": "demo"},
            "created_at": now,
        }
        for cid in ids
    ]
    for chunk in _chunks(events):
        await session.execute(insert(_table(Event)), chunk)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), INSERT_CHUNK):
        yield rows[start : start + INSERT_CHUNK]


def demo_customers(count: int, *, seed: int = 2024, prefix: str = "DEMO") -> list[dict[str, Any]]:
    """Deterministic customers with Norwegian names, mobile numbers and places."""
    rng = random.Random(seed)
    used_phones: set[str] = set()
    rows: list[dict[str, Any]] = []
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone_1 = _mobile(rng, used_phones)
        phone_2 = _mobile(rng, used_phones) if rng.random() < 0.15 else None
        email = None
        if rng.random() < 0.85:
            local = f"{_ascii(first)}.{_ascii(last)}".lower()
            if rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            email = f"{local}@{rng.choice(MAIL_DOMAINS)}"
        rows.append(
            {
                "external_id": f"{prefix}-{i + 1:05d}",
                "first_name": first,
                "last_name": last,
                "phone_1": phone_1,
                "phone_2": phone_2,
                "email": email,
                "language": "nb",
                "time_zone": "Europe/Oslo",
                "city": rng.choice(CITIES),
            }
        )
    return rows


def _mobile(rng: random.Random, used: set[str]) -> str:
    """A Norwegian mobile number in E.164: +47 and eight digits starting with 4 or 9."""
    while True:
        number = f"+47{rng.choice('49')}{rng.randint(0, 9_999_999):07d}"
        if number not in used:
            used.add(number)
            return number


def _ascii(text: str) -> str:
    """ø and æ do not decompose in Unicode: spell them as Norwegians do in addresses."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("Æ", "Ae")
    text = text.replace("å", "aa").replace("Å", "Aa")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded
