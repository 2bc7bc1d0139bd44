"""POST /webhooks/whatsapp as a plain ASGI endpoint, ahead of the FastAPI routes.

FastAPI's request, dependency and response machinery cost as much CPU as a webhook's own work,
and this is the busiest path. It still runs inside the app's middleware (correlation id, error
handlers), so a refusal raised here is answered in the same shape as from any route; the FastAPI
route behind it (`api.py`) documents the operation and behaves the same.
"""

from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from ingest.deps import IngestDeps
from ingest.webhooks.receive import receive

PATH = "/webhooks/whatsapp"


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header, read as Starlette reads it (latin-1)."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


async def _chunks(receive_message: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive_message()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        if body := message.get("body", b""):
            yield body
        if not message.get("more_body", False):
            return


class WebhookEndpoint:
    """An ASGI app (an instance, so Starlette's route calls it as one rather than as a view)."""

    async def __call__(self, scope: Scope, receive_message: Receive, send: Send) -> None:
        deps: IngestDeps = scope["app"].state.deps  # the object routes get from `dependencies`
        declared = _header(scope, b"content-length")
        signature = _header(scope, b"x-hub-signature-256")
        await receive(deps, _chunks(receive_message), declared, signature)
        # What FastAPI sends for `Response(status_code=200)`; fresh lists, as middleware append
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"0")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})


class _PostRoute(Route):
    """Matches a POST only: any other method is left to the FastAPI routes (their 405 included)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] == "POST":
            return super().matches(scope)
        return Match.NONE, {}


def serve_webhooks_first(app: FastAPI) -> None:
    """Routes are tried in order and the first full match serves: put the endpoint first."""
    app.router.routes.insert(0, _PostRoute(PATH, WebhookEndpoint(), methods=["POST"]))
