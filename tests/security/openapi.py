"""Every operation of every service, read from the OpenAPI documents the services serve, and a
request each one accepts, so that a new endpoint joins every security check by itself."""

from __future__ import annotations

import functools
import importlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

SERVICES = ("ingest", "inbox", "customers", "orders")
# Meta's webhook is signed, not bearer; the probes and documents are public by design.
PUBLIC = ("/webhooks/", "/healthz", "/readyz", "/metrics", "/asyncapi.json", "/openapi.json")


@functools.cache
def documents() -> dict[str, dict[str, Any]]:
    """The OpenAPI documents, built by each service's own `create_app` (nothing connects)."""
    return {
        name: importlib.import_module(f"{name}.app").create_app().openapi() for name in SERVICES
    }


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any] = field(compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def public(self) -> bool:
        return self.path.startswith(PUBLIC)

    @property
    def streams(self) -> bool:
        """A live stream (Server-Sent Events): it never ends by itself."""
        content = self.spec["responses"].get("200", {}).get("content", {})
        return "text/event-stream" in content

    @property
    def path_names(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def body_schema(self) -> dict[str, Any] | None:
        """The JSON body's schema, its `$ref` resolved; None when the body is not JSON."""
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return resolve(self.service, schema) if schema else None


def resolve(service: str, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = documents()[service]["components"]["schemas"][name]
    return schema


def operations() -> list[Operation]:
    return [
        Operation(service, method.upper(), path, spec)
        for service, document in documents().items()
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    ]


def guarded() -> list[Operation]:
    """The operations that need a bearer token."""
    return [op for op in operations() if not op.public]


def url_of(op: Operation, base: str, ids: dict[str, str], **override: str) -> str:
    """The operation's URL with the path filled from `ids` (a random id for unknown names)."""
    path = op.path
    for name in op.path_names:
        value = override.get(name, ids.get(name, uuid.uuid4().hex))
        path = path.replace(f"{{{name}}}", value)
    return f"{base}{path}"


def valid_request(op: Operation, ids: dict[str, str]) -> dict[str, Any]:
    """What an agent would send besides the path: a body and headers the operation accepts, so
    a refusal can only come from who asks, not from what is asked."""
    version = {"If-Match": '"1"'}
    known: dict[str, dict[str, Any]] = {
        "ingest POST /channels": {
            "json": {"phone_number_id": "1", "meta_app_id": "x", "access_token": "t"}
        },
        "ingest PATCH /channels/{phone_number_id}": {"json": {"name": "Renamed"}},
        "ingest POST /channels/{phone_number_id}/media": {
            "params": {"filename": "note.txt"},
            "content": b"hello",
            "headers": {"Content-Type": "text/plain"},
        },
        "inbox POST /conversations/{conversation_id}/messages": {
            "json": {"content": {"kind": "text", "body": "Salam"}},
            "headers": {"Idempotency-Key": uuid.uuid4().hex},
        },
        "inbox PUT /channels/{phone_number_id}/settings": {"json": {"read_receipts": True}},
        "customers POST /customers": {"json": {"name": "Nadia"}},
        "customers PATCH /customers/{customer_id}": {"json": {"name": "Renamed"}},
        "customers PUT /customers/settings": {"json": {"statuses": ["VIP"]}},
        "customers POST /customers/{survivor_id}/merge": {
            "json": {"absorbed_ids": [ids.get("absorbed_id", "x")]}
        },
        "customers POST /customers/imports": {
            "content": b"name,phone\nNadia,0612345678\n",
            "headers": {"Content-Type": "text/csv"},
        },
        "orders POST /orders": {
            "json": {"customer_id": ids.get("customer_id", "c"), "lines": [LINE]}
        },
        "orders PATCH /orders/{order_id}": {"json": {"note": "Sonner 2 fois"}, "headers": version},
        "orders POST /orders/{order_id}/stage": {
            "json": {"stage_id": "confirmed"},
            "headers": version,
        },
        "orders POST /orders/{order_id}/cancel": {
            "json": {"reason": "Doublon"},
            "headers": version,
        },
        "orders PUT /pipeline": {"json": {"stages": PIPELINE}},
    }
    if str(op) in known:
        return known[str(op)]
    schema, request = op.body_schema(), _parameters(op)
    return request if schema is None else {**request, "json": example(op.service, schema)}


def _parameters(op: Operation) -> dict[str, Any]:
    """Required query and header parameters, and the keys a handler asks for even if optional."""
    headers = {p["name"]: example(op.service, p["schema"]) for p in op.parameters("header")
               if p.get("required")}  # fmt: skip
    names = {p["name"].lower() for p in op.parameters("header")}
    if "idempotency-key" in names:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if "if-match" in names:
        headers["If-Match"] = '"1"'
    params = {p["name"]: example(op.service, p["schema"]) for p in op.parameters("query")
              if p.get("required")}  # fmt: skip
    return {key: value for key, value in (("headers", headers), ("params", params)) if value}


def example(service: str, schema: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: required fields only, first enum value, etc."""
    schema = resolve(service, schema)
    if "default" in schema or "example" in schema:
        return schema.get("example", schema.get("default"))
    if "enum" in schema or "const" in schema:
        return schema["enum"][0] if "enum" in schema else schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if resolve(service, o).get("type") != "null"]
            return example(service, options[0])
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(service, properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [example(service, schema.get("items", {}))] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return "x" * max(1, schema.get("minLength", 1))


LINE = {"name": "Jellaba", "quantity": 1, "unit_price": "120.00"}
PIPELINE = [
    {"id": "new", "name": "Nouvelle", "color": "#3b82f6", "position": 0, "state": "new"},
    {"id": "cancelled", "name": "Annulée", "color": "#6b7280", "position": 1, "state": "cancelled"},
]
