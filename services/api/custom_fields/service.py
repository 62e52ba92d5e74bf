"""The custom fields a tenant declares for its customers."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.custom_fields.schemas import CustomFieldCreate
from services.api.errors import Conflict
from services.api.pagination import IdKey, Keyset, PageRequest
from shared.models import CustomFieldDefinition

FIELDS: Keyset[IdKey] = Keyset("custom-fields", IdKey)


async def list_fields(
    session: AsyncSession, tenant_id: int, *, page: PageRequest[IdKey]
) -> Sequence[CustomFieldDefinition]:
    query = select(CustomFieldDefinition).where(CustomFieldDefinition.tenant_id == tenant_id)
    return (await session.scalars(page.window(query, CustomFieldDefinition.id))).all()


async def field_keys(session: AsyncSession, tenant_id: int) -> set[str]:
    result = await session.scalars(
        select(CustomFieldDefinition.key).where(CustomFieldDefinition.tenant_id == tenant_id)
    )
    return set(result)


async def create_field(
    session: AsyncSession, tenant_id: int, *, data: CustomFieldCreate
) -> CustomFieldDefinition:
    """Declare a field. It applies to customers written from now on."""
    if data.key in await field_keys(session, tenant_id):
        raise Conflict(f"a custom field with key '{data.key}' already exists")
    definition = CustomFieldDefinition(
        tenant_id=tenant_id,
        key=data.key,
        label=data.label,
        type=data.type.value,
        required=data.required,
        unique_if_filled=data.unique_if_filled,
    )
    session.add(definition)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request declared the same key
        raise Conflict(f"a custom field with key '{data.key}' already exists") from exc
    return definition
