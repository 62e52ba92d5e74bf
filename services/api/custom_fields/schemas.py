"""Request and response bodies of /v1/custom-fields."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.api.fields import Flag, Text
from shared.models import FieldType

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"


class CustomFieldCreate(BaseModel):
    """A custom field of the tenant's customers (rule 2)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"key": "score", "label": "Lead score", "type": "number"}]},
        extra="forbid",
    )

    key: Annotated[str, Field(pattern=KEY_PATTERN, description="Unique per tenant.")]
    label: Annotated[Text, Field(max_length=200)] = ""
    type: FieldType = FieldType.text
    required: Flag = False
    unique_if_filled: Flag = False


class CustomFieldOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 2,
                    "key": "score",
                    "label": "Lead score",
                    "type": "number",
                    "required": False,
                    "unique_if_filled": False,
                    "created_at": "2026-12-01T08:00:00Z",
                }
            ]
        },
        from_attributes=True,
    )

    id: int
    key: str
    label: str
    type: FieldType
    required: bool
    unique_if_filled: bool
    created_at: datetime
