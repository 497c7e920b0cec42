"""Building blocks for describing the plain Starlette routes in the OpenAPI document.

FastAPI describes only the routes it serves itself (the streams dialect). Every other face
is a set of plain Starlette routes, chosen for their lower per-request cost; each face
describes its paths in an ``openapi.py`` beside its routes, with these helpers, and
``camnet.ops.openapi`` merges them into ``app.openapi()``.

Schemas come from pydantic models: the request models the handlers validate with (so the
document cannot promise a body the handler refuses) and response models written next to
each face's description (checked against the live server by ``tests/ops/
test_schemathesis.py``, which validates every response against its schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel

REF: Final = "#/components/schemas/"
JSON: Final = "application/json"

Schema = dict[str, Any]
Mode = Literal["validation", "serialization"]
Operation = dict[str, Any]
PathItem = dict[str, Operation]


@dataclass
class Part:
    """One face's share of the document: paths and the component schemas they name."""

    paths: dict[str, PathItem] = field(default_factory=dict)
    schemas: dict[str, Schema] = field(default_factory=dict)

    def model(self, model: type[BaseModel], *, mode: Mode = "validation") -> Schema:
        """A ``$ref`` to ``model``, whose schema (and nested models) join the components.

        ``mode`` is pydantic's: ``validation`` for what a handler accepts,
        ``serialization`` for what it answers."""
        schema = model.model_json_schema(ref_template=REF + "{model}", mode=mode)
        for name, nested in schema.pop("$defs", {}).items():
            self.schema(name, nested)
        return self.schema(model.__name__, schema)

    def schema(self, name: str, schema: Schema) -> Schema:
        """Register a named schema; the same name twice with another schema is a bug."""
        known = self.schemas.setdefault(name, schema)
        if known != schema:
            raise ValueError(f"two different schemas are both called {name!r}")
        return {"$ref": REF + name}

    def add(self, path: str, method: str, operation: Operation) -> None:
        item = self.paths.setdefault(path, {})
        if method in item:
            raise ValueError(f"{method.upper()} {path} is described twice")
        item[method] = operation


def content(schema: Schema, media_type: str = JSON) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def answer(description: str, schema: Schema | None = None, media_type: str = JSON) -> Schema:
    """A response object; without a schema it has no body (204)."""
    response: Schema = {"description": description}
    if schema is not None:
        response["content"] = content(schema, media_type)
    return response


def binary(description: str, *media_types: str) -> Schema:
    """A response whose body is bytes of one of ``media_types`` (an image, a file)."""
    body = {"type": "string", "format": "binary"}
    return {"description": description, "content": {m: {"schema": body} for m in media_types}}


def errors(schema: Schema, statuses: Mapping[int, str]) -> dict[str, Schema]:
    """The same error body for each status, with the reason each happens."""
    return {str(status): answer(why, schema) for status, why in statuses.items()}


def json_body(
    schema: Schema, *, required: bool = True, media_types: tuple[str, ...] = (JSON,)
) -> Schema:
    return {"required": required, "content": {m: {"schema": schema} for m in media_types}}


def path_parameter(name: str, schema: Schema | None = None, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "path", "required": True}
    parameter["schema"] = schema or {"type": "string"}
    if description:
        parameter["description"] = description
    return parameter


def query_parameter(name: str, schema: Schema, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def header_parameter(name: str, schema: Schema, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "header", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: Mapping[str, Schema],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    description: str = "",
) -> Operation:
    described: Operation = {
        "tags": [tag],
        "summary": summary,
        "operationId": operation_id,
        "responses": dict(responses),
    }
    if description:
        described["description"] = description
    if parameters:
        described["parameters"] = parameters
    if body is not None:
        described["requestBody"] = body
    return described
