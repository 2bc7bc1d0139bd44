"""Static checks of compose, the gateway, .env.example and the manifests against the settings."""

import re

import pytest

from .deployment import (
    BODY_LIMITS,
    PORTS,
    REQUIRED_FROM_HOST,
    ROUTES,
    SERVICES,
    WITH_FALLBACK,
    compose,
    compose_env,
    compose_variables,
    container,
    directive,
    env_example,
    fields_by_env,
    filled_from_env_example,
    is_secret,
    manifest,
    manifest_env,
    matches_default,
    nginx,
    nginx_blocks,
    nginx_size,
    settings_class,
    settings_env,
    simulator_variables,
)


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
