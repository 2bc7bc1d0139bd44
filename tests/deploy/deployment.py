"""What the deployment files say: settings classes, compose, manifests, .env.example, nginx."""

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import AliasChoices, AliasPath, BaseModel, SecretBytes, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo

from hanout_shared.platform.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"ingest": 8001, "inbox": 8002, "customers": 8003, "orders": 8004}  # ARCHITECTURE §7
SERVICES = tuple(PORTS)
ROUTES = {  # gateway prefix -> (service, path the service sees in place of the prefix)
    "/api/ingest/": ("ingest", "/"),
    "/api/inbox/": ("inbox", "/"),
    "/api/customers/": ("customers", "/"),
    "/api/orders/": ("orders", "/"),
    "/webhooks/whatsapp": ("ingest", ""),
}
BODY_LIMITS = {  # gateway location -> the setting bounding a request body the service accepts there
    "/webhooks/whatsapp": ("ingest", "INGEST_MAX_BODY_BYTES"),
    "/api/ingest/": ("ingest", "INGEST_MEDIA_MAX_BYTES"),
    "/api/customers/": ("customers", "CUSTOMERS_IMPORT_MAX_BYTES"),
}
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD")
REQUIRED_FROM_HOST = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")
WITH_FALLBACK = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:-([^}]*)\}$")
INTERPOLATED = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}")
ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def _alias_names(alias: str | AliasPath | AliasChoices) -> list[str]:
    if isinstance(alias, AliasChoices):
        return [name for choice in alias.choices for name in _alias_names(choice)]
    if isinstance(alias, AliasPath):
        return [alias.path[0]] if isinstance(alias.path[0], str) else []
    return [alias]


def _env_names(field_name: str, field: FieldInfo, prefix: str) -> set[str]:
    """Names pydantic-settings reads a field from: its aliases (unprefixed) or prefix + name."""
    alias = field.validation_alias or field.alias
    names = _alias_names(alias) if alias else [prefix + field_name]
    return {name.upper() for name in names}


def _holds_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    if (
        get_origin(annotation) is None
        and isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
    ):
        return any(_holds_secret(field.annotation) for field in annotation.model_fields.values())
    return any(_holds_secret(arg) for arg in get_args(annotation))


@cache
def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{service}.settings")
    found = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, ServiceSettings)
        and obj.__module__ == module.__name__
    ]
    assert len(found) == 1, f"{service}.settings should define one ServiceSettings subclass"
    return found[0]


@cache
def settings_env(service: str) -> list[tuple[FieldInfo, set[str]]]:
    """Each settings field of the service with the env names it is read from."""
    cls = settings_class(service)
    prefix = str(cls.model_config.get("env_prefix", ""))
    return [(field, _env_names(name, field, prefix)) for name, field in cls.model_fields.items()]


@cache
def fields_by_env(service: str) -> dict[str, FieldInfo]:
    return {env: field for field, names in settings_env(service) for env in names}


def is_secret(service: str, name: str) -> bool:
    """Named like a secret, or read into a field that holds a SecretStr somewhere inside."""
    field = fields_by_env(service).get(name) if service in PORTS else None
    return any(word in name.upper() for word in SECRET_WORDS) or (
        field is not None and _holds_secret(field.annotation)
    )


def matches_default(field: FieldInfo, text: str) -> bool:
    default = field.get_default(call_default_factory=True)
    if text == "" and default is None:
        return True  # an empty value stands for "not set"
    return bool(TypeAdapter(field.annotation).validate_python(text) == default)


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def compose_env(service: str) -> dict[str, str]:
    env = compose()["services"][service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(name): str(value) for name, value in env.items()}


@cache
def manifest(service: str) -> list[dict[str, Any]]:
    text = (ROOT / "deploy" / f"{service}.yaml").read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc]


def container(service: str) -> dict[str, Any]:
    deployment = next(doc for doc in manifest(service) if doc["kind"] == "Deployment")
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return next(c for c in spec["containers"] if c["name"] == service)


def manifest_env(service: str) -> dict[str, Any]:
    """The container's env entries plus the data of the ConfigMaps it takes whole."""
    maps = {
        doc["metadata"]["name"]: doc.get("data") or {}
        for doc in manifest(service)
        if doc["kind"] == "ConfigMap"
    }
    env: dict[str, Any] = {}
    for source in container(service).get("envFrom", []):
        env |= maps.get(source.get("configMapRef", {}).get("name"), {})
    return env | {item["name"]: item for item in container(service).get("env", [])}


@cache
def env_example() -> dict[str, tuple[str, bool]]:
    """Each variable listed: its value, and whether it is set (rather than a commented default)."""
    listed = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := ASSIGNMENT.match(line.strip()):
            value = match[3].strip()
            if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            listed[match[2]] = (value, match[1] is None)
    return listed


def filled_from_env_example(value: str) -> str:
    """Compose's interpolation of `value` when .env is a copy of .env.example."""

    def fill(ref: re.Match[str]) -> str:
        given, is_set = env_example().get(ref[1], ("", False))
        if is_set and given:
            return given
        assert ref[2] != "?", f"compose requires {ref[1]}, which .env.example leaves unset"
        return ref[3] or ""

    return INTERPOLATED.sub(fill, value)


def compose_variables() -> set[str]:
    return {ref[0] for ref in INTERPOLATED.findall((ROOT / "docker-compose.yml").read_text())}


@cache
def nginx() -> str:
    return re.sub(r"#[^\n]*", "", (ROOT / "deploy" / "nginx.conf").read_text())


def nginx_blocks(kind: str) -> dict[str, str]:
    pattern = re.compile(rf"\b{kind}\s+(?:=\s+)?(\S+)\s*\{{([^{{}}]*)\}}")
    return {match[1]: match[2] for match in pattern.finditer(nginx())}


def directive(block: str, name: str) -> str | None:
    match = re.search(rf"^\s*{name}\s+([^;]+);", block, re.MULTILINE)
    return match[1].strip() if match else None


def nginx_size(text: str) -> int:
    scale = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1].lower())
    return int(text[:-1]) * scale if scale else int(text)


def simulator_variables() -> set[str]:
    """The Meta simulator (a dev and test tool beside ingest) reads its own SIMULATOR_ block."""
    from simulator.settings import SimulatorSettings

    prefix = str(SimulatorSettings.model_config.get("env_prefix", ""))
    return {(prefix + name).upper() for name in SimulatorSettings.model_fields}
