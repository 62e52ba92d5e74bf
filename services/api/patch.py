"""PATCH bodies: only the fields sent change, and the schema says which may be null.

A field of a PATCH body is optional (left out, it stays), but most fields cannot be cleared:
an assignment is active or not, a user has a name. Pydantic documents an optional field as
"the type or null", so the schema allowed `{"active": null}` and the API refused it. Here a
field that cannot be cleared is declared without null in the schema, and an explicit null is
refused (422) naming the field; the fields in `nullable` may be null (it clears them).
"""

from typing import Any, ClassVar

from pydantic import BaseModel, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def _without_null(prop: dict[str, Any]) -> None:
    """The property's schema, its null branch removed (in place)."""
    branches = prop.get("anyOf")
    if not isinstance(branches, list):
        return
    kept = [b for b in branches if b != {"type": "null"}]
    if len(kept) == 1:
        del prop["anyOf"]
        prop.update(kept[0])
    else:
        prop["anyOf"] = kept
    if prop.get("default", 0) is None:
        del prop["default"]


class Patch(BaseModel):
    """A PATCH body. Subclasses name the fields that may be null in `nullable`."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, prop in schema.get("properties", {}).items():
            if name not in cls.nullable:
                _without_null(prop)
        return schema

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for fields sent: a field left out keeps its default and is not validated.
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("cannot be null")
        return value
