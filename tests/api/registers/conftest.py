"""A world (tenant, assignment, agents) with an administrator and a helper for registers."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.infra.clock import utc_now
from shared.models import Permission, Register, RegisterNumber
from tests.api.world import World
from tests.factories import create_user


@dataclass
class Desk:
    world: World
    admin_token: str

    @property
    def admin(self) -> dict[str, str]:
        return self.world.auth(self.admin_token)

    async def register(
        self, numbers: list[str], *, extract: date | None = None, max_age_days: int = 31
    ) -> Register:
        """A register whose extract (today's, unless given) holds `numbers`, committed."""
        session = self.world.session
        register = Register(
            tenant_id=self.world.tenant.id,
            name=f"register {utc_now().timestamp()}",
            max_age_days=max_age_days,
            extract_date=extract or utc_now().date(),
            numbers=len(numbers),
        )
        session.add(register)
        await session.flush()
        await add_numbers(session, register, numbers)
        return register


async def add_numbers(session: AsyncSession, register: Register, numbers: list[str]) -> None:
    session.add_all(
        RegisterNumber(register_id=register.id, tenant_id=register.tenant_id, phone=p)
        for p in numbers
    )
    await session.commit()


@pytest.fixture
async def desk(world: World) -> Desk:
    _, token = await create_user(
        world.session, world.tenant, name="Admin", permissions=[Permission.administrator.value]
    )
    return Desk(world, token)
