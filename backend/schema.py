"""The OpenAPI schema says what the API really answers, errors included.

drf-spectacular documents only the success of each operation, and takes every serializer
field with a default as optional in responses too. A client generated from the schema should
know the error bodies API.md promises (DRF's usual ones) and the fields every body carries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated

BODY_METHODS = ("POST", "PUT", "PATCH")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in words.")


# DRF's validation body: each bad field mapped to its messages, a bad item of a list field
# keyed by its index ({"red_flags": {"0": ["..."]}}).
FIELD_ERRORS = {
    "type": "object",
    "description": "Each bad field, mapped to its messages.",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
    "example": {"score": ["Ensure this value is less than or equal to 10."]},
}


class AutoSchema(SpectacularAutoSchema):
    """Adds to each operation the 4xx answers it can give, with their bodies."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        detail = {"$ref": self.resolve_serializer(ErrorSerializer, "response").ref["$ref"]}
        for status, description, schema in self._errors(operation, detail):
            operation["responses"].setdefault(
                str(status),
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return operation

    def _errors(self, operation: dict, detail: dict) -> Iterator[tuple[int, str, dict]]:
        queried = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
        has_path_id = any(p["in"] == "path" for p in operation.get("parameters", ()))
        signed_in = "security" in operation and {} not in operation["security"]
        if self.method in BODY_METHODS or queried:  # every query parameter is checked
            yield 400, "Bad input: each bad field named.", {"anyOf": [FIELD_ERRORS, detail]}
        if signed_in:
            yield 401, "Not signed in, or the token is not valid.", detail
            if self._role_restricted() or self.method not in SAFE_METHODS:
                yield 403, "For another role, or a session request without its CSRF token.", detail
        if has_path_id or "page" in queried:
            yield 404, "No such record among those you can see (or no such page).", detail
        if self.method in BODY_METHODS:
            yield 413, "The body is too large.", detail
            yield 415, "The body is not JSON.", detail
        if self.view.get_throttles():
            yield 429, "Too many requests: try again later.", detail

    def _role_restricted(self) -> bool:
        """A permission beyond being signed in (only patients, only therapists)."""
        return any(
            type(permission) not in (AllowAny, IsAuthenticated)
            for permission in self.view.get_permissions()
        )


def bodies_as_sent(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: a response body carries every field its serializer has (DRF
    writes them all, null where empty), and a request body may carry no other field (the
    strict serializers refuse unknown ones, naming them)."""
    components = result.get("components", {}).get("schemas", {})
    requests, responses = _components_used(result, components)
    for name in responses - requests:
        component = components[name]
        if component.get("type") == "object" and "properties" in component:
            component["required"] = sorted(component["properties"])
    for name in requests - responses:
        component = components[name]
        if component.get("type") == "object" and "properties" in component:
            component["additionalProperties"] = False
    return result


def _components_used(result: dict, components: dict) -> tuple[set[str], set[str]]:
    """The names of the components reachable from request bodies and from responses."""
    requests: set[str] = set()
    responses: set[str] = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            _collect(operation.get("requestBody", {}), components, requests)
            _collect(operation.get("responses", {}), components, responses)
    return requests, responses


def _collect(node: Any, components: dict, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _collect(components.get(name), components, found)
        for value in node.values():
            _collect(value, components, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, components, found)
