"""/v1/custom-fields: the fields a tenant declares for its customers (assignment setup)."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.api.custom_fields import service
from services.api.custom_fields.schemas import CustomFieldCreate, CustomFieldOut
from services.api.deps import Res, Setup
from services.api.pagination import IdKey, Page, PageRequest, by_id, paging

router = APIRouter(tags=["custom fields"])

FieldPages = Annotated[PageRequest[IdKey], Depends(paging(service.FIELDS))]


@router.get("/custom-fields", summary="List custom fields")
async def list_fields(principal: Setup, resources: Res, page: FieldPages) -> Page[CustomFieldOut]:
    """The tenant's custom fields, in the order they were declared."""
    async with resources.session() as session:
        fields = await service.list_fields(session, principal.tenant_id, page=page)
        return page.answer(
            Page[CustomFieldOut], fields, key=by_id, item=CustomFieldOut.model_validate
        )


@router.post(
    "/custom-fields", summary="Declare a custom field", status_code=status.HTTP_201_CREATED
)
async def create_field(body: CustomFieldCreate, principal: Setup, resources: Res) -> CustomFieldOut:
    """Declare a field; a key already declared answers 409."""
    async with resources.session() as session:
        field = await service.create_field(session, principal.tenant_id, data=body)
    return CustomFieldOut.model_validate(field)
