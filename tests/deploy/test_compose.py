"""Static checks of compose, the gateway, .env.example and the manifests against the settings."""

import importlib
import re
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
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


@pytest.mark.parametrize("service", SERVICES)
def test_env_names_are_derived_from_the_settings_classes(service: str) -> None:
    names = fields_by_env(service)
    assert {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "AUTH_JWT_SECRET"} <= names.keys()
    assert f"{service.upper()}_MONGODB_DATABASE" in names


@pytest.mark.parametrize("service", SERVICES)
def test_every_required_setting_is_provided_to_its_service(service: str) -> None:
    for source, given in (("compose", compose_env(service)), ("manifest", manifest_env(service))):
        missing = [
            sorted(names)
            for field, names in settings_env(service)
            if field.is_required() and not names & set(given)
        ]
        assert not missing, f"{service} {source} lacks required settings {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_given_to_a_service_is_a_setting_it_reads(service: str) -> None:
    for source, given in (("compose", compose_env(service)), ("manifest", manifest_env(service))):
        unread = sorted(set(given) - set(fields_by_env(service)))
        assert not unread, f"{service} {source} sets variables its settings never read: {unread}"


def test_documented_defaults_match_the_settings_defaults() -> None:
    documented = [
        (service, name, fallback[1])
        for service in SERVICES
        for name, value in compose_env(service).items()
        if (fallback := WITH_FALLBACK.match(value))
    ]
    documented += [
        (service, name, value)
        for name, (value, is_set) in env_example().items()
        for service in SERVICES
        if not is_set and name in fields_by_env(service)
    ]
    stale = [
        f"{service}: {name}={text}"
        for service, name, text in documented
        if not matches_default(fields_by_env(service)[name], text)
    ]
    assert not stale, f"defaults written in compose or .env.example drifted: {stale}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_accepts_its_compose_environment_filled_from_env_example(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in fields_by_env(service):
        monkeypatch.delenv(name, raising=False)
    for name, value in compose_env(service).items():
        monkeypatch.setenv(name, filled_from_env_example(value))
    settings_class(service)()


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_a_readiness_healthcheck_and_waits_for_healthy_kafka_and_mongo(
    service: str,
) -> None:
    spec = compose()["services"][service]
    assert f"127.0.0.1:{PORTS[service]}/readyz" in " ".join(spec["healthcheck"]["test"])
    assert f"{PORTS[service]}:{PORTS[service]}" in " ".join(spec["ports"])
    assert spec["build"] == {"context": ".", "args": {"SERVICE": service}}
    for infra in ("kafka", "mongo"):
        assert spec["depends_on"][infra]["condition"] == "service_healthy"
        assert compose()["services"][infra]["healthcheck"]["test"]


def test_the_gateway_waits_for_every_healthy_service_and_mounts_its_config() -> None:
    gateway = compose()["services"]["gateway"]
    conditions = {svc: dep["condition"] for svc, dep in gateway["depends_on"].items()}
    assert conditions == dict.fromkeys(SERVICES, "service_healthy")
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    assert "./web/dist:/usr/share/nginx/html:ro" in gateway["volumes"]


def test_secrets_are_never_literal_values_in_compose() -> None:
    for service in compose()["services"]:
        for name, value in compose_env(service).items():
            if is_secret(service, name):
                assert REQUIRED_FROM_HOST.match(value), f"{service}: {name} must be ${{{name}:?..}}"


@pytest.mark.parametrize("service", SERVICES)
def test_manifests_take_secrets_only_from_secret_refs(service: str) -> None:
    for doc in manifest(service):
        if doc["kind"] == "ConfigMap":
            assert not [name for name in doc.get("data") or {} if is_secret(service, name)]
    for item in container(service).get("env", []):
        if is_secret(service, item["name"]):
            assert "secretKeyRef" in item.get("valueFrom", {}), item["name"]


@pytest.mark.parametrize(
    ("prefix", "service", "path"), [(prefix, *target) for prefix, target in ROUTES.items()]
)
def test_the_gateway_routes_each_prefix_to_its_service_port(
    prefix: str, service: str, path: str
) -> None:
    target = directive(nginx_blocks("location").get(prefix, ""), "proxy_pass")
    match = re.fullmatch(r"http://([\w.-]+)(?::(\d+))?(/.*)?", target or "")
    assert match, f"{prefix} has no proxy_pass"
    host, port, uri = match.groups()
    upstream = nginx_blocks("upstream").get(host)
    if upstream is not None:
        host, port = (directive(upstream, "server") or "").split()[0].split(":")
    assert (host, int(port or 80), uri or "") == (service, PORTS[service], path)


def test_the_gateway_streams_the_inbox_and_passes_the_identifying_headers() -> None:
    inbox = nginx_blocks("location")["/api/inbox/"]
    assert directive(inbox, "proxy_buffering") == "off"
    assert directive(inbox, "proxy_read_timeout") in {"1h", "3600s", "3600"}
    assert directive(nginx(), "proxy_http_version") == "1.1"
    headers = re.findall(r"proxy_set_header\s+(\S+)", nginx())
    for header in ("X-Correlation-ID", "Authorization", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert header in headers
    # A proxy_set_header inside a location would silently drop all the server-level ones.
    assert not any("proxy_set_header" in body for body in nginx_blocks("location").values())


@pytest.mark.parametrize(
    ("location", "service", "setting"),
    [(location, *bound) for location, bound in BODY_LIMITS.items()],
)
def test_the_gateway_admits_the_bodies_its_services_accept(
    location: str, service: str, setting: str
) -> None:
    limit = directive(nginx_blocks("location")[location], "client_max_body_size") or "1m"
    assert nginx_size(limit) >= fields_by_env(service)[setting].get_default()


def test_the_gateway_serves_the_web_client_with_an_app_shell_fallback() -> None:
    locations = nginx_blocks("location")
    assert directive(nginx(), "root") == "/usr/share/nginx/html"
    fallback = (directive(locations["/"], "try_files") or "").split()[-1]
    if fallback.startswith("@"):  # a named location that serves the app shell
        fallback = directive(locations[fallback], "try_files") or ""
    assert "/index.html" in fallback


def simulator_variables() -> set[str]:
    """The Meta simulator (a dev and test tool beside ingest) reads its own SIMULATOR_ block."""
    from simulator.settings import SimulatorSettings

    prefix = str(SimulatorSettings.model_config.get("env_prefix", ""))
    return {(prefix + name).upper() for name in SimulatorSettings.model_fields}


def test_every_variable_in_env_example_is_read_by_a_service_or_by_compose() -> None:
    read = compose_variables().union(
        simulator_variables(), *(fields_by_env(service) for service in SERVICES)
    )
    assert not set(env_example()) - read


def test_env_example_lists_every_setting_and_every_compose_variable() -> None:
    listed = set(env_example())
    for service in SERVICES:
        for _, names in settings_env(service):
            assert names & listed, (
                f".env.example should list {service}'s {sorted(names)}"
                " (as a commented default when it needs no development value)"
            )
    assert not compose_variables() - listed


@pytest.mark.parametrize("service", SERVICES)
def test_each_manifest_has_both_probes_resource_limits_and_runs_as_non_root(service: str) -> None:
    spec = container(service)
    assert spec["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= spec["resources"][kind].keys()
    assert spec["ports"][0]["containerPort"] == PORTS[service]
    pod = next(doc for doc in manifest(service) if doc["kind"] == "Deployment")
    assert pod["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
