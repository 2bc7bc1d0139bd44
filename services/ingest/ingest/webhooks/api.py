"""Meta's webhook: the verification handshake, and signed notifications made durable before 200."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from hanout_shared.platform.errors import ApiError, ErrorBody
from ingest.deps import IngestDep, error_responses
from ingest.webhooks import receive as webhook
from ingest.webhooks.endpoint import PATH

router = APIRouter(prefix=PATH, tags=["meta webhook"])


def _json_errors(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Errors of a route whose own answer is not JSON (the route's media type would apply)."""
    content = {"application/json": {"schema": ErrorBody.model_json_schema()}}
    return {status: {"description": text, "content": content} for status, text in statuses.items()}


@router.get(
    "",
    summary="Verification handshake: echo hub.challenge when hub.verify_token matches",
    response_class=PlainTextResponse,
    responses=_json_errors({400: "Missing parameters", 403: "Wrong hub.mode or hub.verify_token"}),
)
async def verify(
    deps: IngestDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    if mode is None or token is None or challenge is None:
        raise ApiError(400, "missing_parameters", "hub.mode, hub.verify_token and hub.challenge")
    given = token.encode()
    matches = [hmac.compare_digest(given, known) for known in deps.webhook.verify_tokens]
    if mode != "subscribe" or not any(matches):
        raise ApiError(403, "verification_failed", "Wrong hub.mode or hub.verify_token")
    return PlainTextResponse(challenge)


@router.post(
    "",
    summary="Event notifications: 200 only once the body and its events are in Kafka",
    response_class=Response,
    responses=error_responses(400, 401, 413, 503),
)
async def receive(request: Request, deps: IngestDep) -> Response:
    # Served by endpoint.WebhookEndpoint ahead of this route (no docstring: it would document it)
    headers = request.headers
    declared, signature = headers.get("content-length"), headers.get("x-hub-signature-256")
    await webhook.receive(deps, request.stream(), declared, signature)
    return Response(status_code=200)
