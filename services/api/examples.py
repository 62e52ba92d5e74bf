"""The models' examples in the OpenAPI schema, as the models declare them.

FastAPI renders the schema with `exclude_none`, which also drops every `null` inside an
example: an answer's example lost its `"visible_from": null` and no longer matched its own
model (whose field is required, and may be null). The examples are put back from the models,
once, after the schema is generated.

A page of a list (`Page[Item]`, decision 026) declares no example of its own: its example is a
page holding its item's example.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from services.api.pagination import Page

# FastAPI names a model's component after the model, with these suffixes when its input and
# output schemas differ.
_SUFFIXES = ("", "-Input", "-Output")


def _models(base: type[BaseModel] = BaseModel) -> Iterator[type[BaseModel]]:
    for model in base.__subclasses__():
        yield model
        yield from _models(model)


def _examples(model: type[BaseModel]) -> list[Any] | None:
    extra = model.model_config.get("json_schema_extra")
    if not isinstance(extra, dict) or "examples" not in extra:
        return None
    # Only the model's own: a subclass that declares none inherits its parent's config.
    parent = next((b for b in model.__mro__[1:] if issubclass(b, BaseModel)), None)
    if parent is not None and parent.model_config.get("json_schema_extra") is extra:
        return None
    examples = extra["examples"]
    return examples if isinstance(examples, list) else None


# A cursor as a page answers it (base64url of `["assignments", 42]`): clients treat it as opaque.
_NEXT_EXAMPLE = "WyJhc3NpZ25tZW50cyIsNDJd"


def _page_examples(model: type[BaseModel]) -> list[Any] | None:
    """A `Page[Item]`'s example: one item, and the cursor of the page that follows."""
    meta = model.__pydantic_generic_metadata__
    if meta["origin"] is not Page or len(meta["args"]) != 1:
        return None
    item = meta["args"][0]
    if not isinstance(item, type) or not issubclass(item, BaseModel):
        return None
    items = _examples(item)
    if not items:
        return None
    return [{"items": [items[0]], "limit": 1, "next": _NEXT_EXAMPLE}]


def _component(model: type[BaseModel]) -> str:
    # Pydantic names a component after its model, other characters than these replaced by _
    # (`Page[AssignmentOut]` is `Page_AssignmentOut_`).
    return re.sub(r"[^a-zA-Z0-9.\-_]", "_", model.__name__)


def document_examples(app: FastAPI) -> None:
    """Put every model's examples back into its component of the schema."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        components = schema.get("components", {}).get("schemas", {})
        for model in _models():
            examples = _examples(model) or _page_examples(model)
            if examples is None:
                continue
            for suffix in _SUFFIXES:
                component = components.get(_component(model) + suffix)
                if component is not None:
                    component["examples"] = examples
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
