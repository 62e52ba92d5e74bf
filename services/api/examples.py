"""The models' examples in the OpenAPI schema, as the models declare them.

FastAPI renders the schema with `exclude_none`, which also drops every `null` inside an
example: an answer's example lost its `"visible_from": null` and no longer matched its own
model (whose field is required, and may be null). The examples are put back from the models,
once, after the schema is generated.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

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


def document_examples(app: FastAPI) -> None:
    """Put every model's examples back into its component of the schema."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        components = schema.get("components", {}).get("schemas", {})
        for model in _models():
            examples = _examples(model)
            if examples is None:
                continue
            for suffix in _SUFFIXES:
                component = components.get(model.__name__ + suffix)
                if component is not None:
                    component["examples"] = examples
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
