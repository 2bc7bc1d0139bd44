"""Assembles a service the same way everywhere: FastAPI + a FastStream broker in its lifespan."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pymongo import AsyncMongoClient

from hanout_shared.platform.auth import Authenticator, current_agent
from hanout_shared.platform.errors import ErrorBody, install_error_handlers
from hanout_shared.platform.kafka import ensure_topics, wait_for_kafka
from hanout_shared.platform.logs import CorrelationMiddleware
from hanout_shared.platform.settings import ServiceSettings

logger = logging.getLogger("hanout.service")

Check = Callable[[], Awaitable[object]]
Hook = Callable[[], Awaitable[None]]

READY_TIMEOUT_S = 2.0


async def _passes(check: Check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), READY_TIMEOUT_S))
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness check failed", exc_info=True)
        return False


def _ops_router(
    name: str, checks: dict[str, Check], registry: CollectorRegistry, spec: AsyncAPI
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @router.get("/readyz", summary="Readiness: Kafka and the store are reachable")
    async def readyz() -> JSONResponse:
        results = {check: await _passes(run) for check, run in checks.items()}
        ready = all(results.values())
        body = {
            "status": "ready" if ready else "unavailable",
            "service": name,
            "checks": {k: "ok" if v else "failing" for k, v in results.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", summary="AsyncAPI document of this service's topics")
    async def asyncapi() -> Any:
        return spec.to_specification().to_jsonable()

    return router


def _calls(dependant: Dependant) -> list[Any]:
    found = [dependant.call]
    for child in dependant.dependencies:
        found.extend(_calls(child))
    return found


def _api_routes(routes: Sequence[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):  # a router included in a router
            found.extend(_api_routes(route.original_router.routes))
    return found


def _document_auth(router: APIRouter) -> None:
    """Guarded operations say in the OpenAPI that they can answer 401 (and 403 for roles)."""
    content = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    for route in _api_routes(router.routes):
        calls = _calls(route.dependant)
        if current_agent not in calls:
            continue
        route.responses.setdefault(
            401, {"description": "Missing, invalid or expired bearer token", "content": content}
        )
        if any(getattr(call, "__qualname__", "").startswith("require_role.") for call in calls):
            route.responses.setdefault(
                403, {"description": "The token lacks the role this needs", "content": content}
            )


def _document_store_outage(router: APIRouter) -> None:
    """Every operation may find the store down: 503 `store_unavailable` with a Retry-After."""
    content = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    text = "The store does not answer; retry after the Retry-After seconds (store_unavailable)"
    for route in _api_routes(router.routes):
        route.responses.setdefault(503, {"description": text, "content": content})


def _limit_json_bodies(router: APIRouter, max_bytes: int) -> None:
    """Operations whose JSON body FastAPI reads get the platform's size limit (413), unless they
    set their own; routes that stream their body themselves (uploads, webhooks) keep theirs."""
    content = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    for route in _api_routes(router.routes):
        field = route.body_field
        if field is None or isinstance(field.field_info, params.Form):
            continue
        if route.max_body_size is None:
            route.max_body_size = max_bytes
        description = f"The body is larger than {route.max_body_size} bytes (body_too_large)"
        route.responses.setdefault(413, {"description": description, "content": content})


async def dependencies(request: Request) -> Any:
    """The service's dependencies object, built by its `app.py`: `Depends(dependencies)` in a
    route (annotated with the service's own type); handlers get it as `deps` from the context.
    Async so FastAPI calls it inline: a plain function would cost a thread hop per request."""
    return request.app.state.deps


def build_service(
    *,
    name: str,
    settings: ServiceSettings,
    broker: KafkaBroker,
    registry: CollectorRegistry,
    mongo: AsyncMongoClient[Any],
    routers: Sequence[APIRouter] = (),
    kafka_routers: Sequence[KafkaRouter] = (),
    deps: object | None = None,
    state: dict[str, Any] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    description: str = "",
) -> FastAPI:
    """The FastAPI app of a service, with its broker started and stopped in the lifespan.

    `deps`, the service's one dependencies object, is put both in FastStream's context (as
    `deps`, for handlers) and on `app.state` (for routes, through `dependencies`).
    """
    for kafka_router in kafka_routers:
        broker.include_router(kafka_router)
    broker.context.set_global("deps", deps)
    for key, value in (state or {}).items():
        broker.context.set_global(key, value)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await wait_for_kafka(settings.kafka_bootstrap_servers, settings.startup_timeout_s)
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            partitions=settings.topic_partitions,
            replication=settings.topic_replication,
        )
        for hook in on_startup:
            await hook()
        await broker.start()
        logger.info("service started", extra={"service": name})
        try:
            yield
        finally:
            await broker.stop()
            for hook in on_shutdown:
                await hook()
            await mongo.close()

    app = FastAPI(
        title=f"Hanout {name}", description=description, version="0.1.0", lifespan=lifespan
    )
    app.state.authenticator = Authenticator(
        secret=settings.jwt_secret.get_secret_value(),
        jwks_url=settings.jwks_url,
        audience=settings.jwt_audience,
    )
    app.state.broker = broker
    app.state.deps = deps
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    install_error_handlers(app)
    app.add_middleware(CorrelationMiddleware)
    spec = AsyncAPI(broker, title=f"Hanout {name} events", version="0.1.0")
    checks: dict[str, Check] = {
        "kafka": lambda: broker.ping(timeout=READY_TIMEOUT_S),
        "store": lambda: mongo.admin.command("ping"),
    }
    for router in routers:  # first: requests try routes in order, and these are the busy ones
        _document_auth(router)
        _document_store_outage(router)
        _limit_json_bodies(router, settings.max_request_body_bytes)
        app.include_router(router)
    app.include_router(_ops_router(name, checks, registry, spec))
    return app
