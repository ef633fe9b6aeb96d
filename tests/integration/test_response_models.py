"""Every JSON answer is a declared model, and none carries what is not for clients (issue 15 §4):
a publication's `idempotency_key` (what platforms dedupe on) and `remote_details` (the
platforms' own ids and answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from syndicator.api.app import create_app
from syndicator.config import Settings

HIDDEN = {"idempotency_key", "remote_details"}


def openapi() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def json_answers(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if "application/json" in content:
                    yield f"{method.upper()} {path} {code}", content["application/json"].get("schema") or {}


def property_names(schema: Any, components: dict[str, Any], seen: set[str]) -> Iterator[str]:
    """Every property name reachable from `schema`, following $refs once each."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from property_names(components[name], components, seen)
        yield from schema.get("properties", {})
        for value in schema.values():
            yield from property_names(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            yield from property_names(item, components, seen)


def is_model(schema: dict[str, Any]) -> bool:
    """A model (named, or inline like the error answers), or a list of one: not `{}` and not a
    free-form `dict[str, Any]`."""
    if schema.get("type") == "array":
        return is_model(schema.get("items") or {})
    return "$ref" in schema or bool(schema.get("properties"))


def test_every_json_answer_has_a_response_model() -> None:
    untyped = [where for where, schema in json_answers(openapi()) if not is_model(schema)]
    assert untyped == []


def test_no_answer_exposes_idempotency_keys_or_remote_details() -> None:
    doc = openapi()
    components = doc.get("components", {}).get("schemas", {})
    exposed = {
        where: sorted(HIDDEN & set(property_names(schema, components, set())))
        for where, schema in json_answers(doc)
    }
    assert {where: names for where, names in exposed.items() if names} == {}


def test_the_walk_sees_a_hidden_field_where_one_is_declared() -> None:
    """The check itself: a schema that does expose a hidden field is found through its $ref."""
    components = {"Row": {"properties": {"id": {}, "remote_details": {}}}}
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Row"}}
    assert "remote_details" in set(property_names(schema, components, set()))
