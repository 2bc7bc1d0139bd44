"""The Graph API over HTTP: the only module that knows Meta's URLs, and how its errors read."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from hanout_shared.contracts.whatsapp import MetaError

USER_AGENT = "hanout-ingest/0.1"
# The bearer token only ever goes to Meta's hosts (SPEC §7), plus the configured Graph host.
META_HOST_SUFFIXES = ("facebook.com", "fbsbx.com", "fbcdn.net")
# Throughput and transient codes (SPEC §5.5): Meta asks for a retry with backoff.
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004})
# Graph node ids (phone numbers, WABAs, media) are decimal digits; anything else in a path segment
# could steer the call to another node or add parameters, with the business's token.
GRAPH_ID = re.compile(r"[0-9]{1,32}")


class InvalidGraphId(ValueError):
    """A value meant as a Graph node id that is not one: it never reaches a URL."""


def node(value: str) -> str:
    """A Graph id as one encoded URL path segment."""
    if not GRAPH_ID.fullmatch(value):
        raise InvalidGraphId(value[:64])
    return quote(value, safe="")


class GraphUnreachable(Exception):
    """The request never reached Meta: safe to retry."""


class GraphOutcomeUnknown(Exception):
    """The request may have reached Meta but no answer came back: retrying could send twice."""


class ForbiddenHost(Exception):
    """A media URL outside Meta's hosts: the token must not be sent there."""


@dataclass(frozen=True)
class GraphResponse:
    status: int
    payload: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _payload(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def graph_error(status: int, payload: Any) -> MetaError:
    """Meta's error body (`{"error": {...}}`) as ours; anything else keeps the HTTP status."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return MetaError(code=None, title=f"HTTP {status}", message="unexpected Graph API answer")
    code = error.get("code")
    found = error.get("error_data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    message = error.get("message") if isinstance(error.get("message"), str) else None
    title = message.split(") ", 1)[-1] if message and message.startswith("(#") else message
    details = data.get("details") if isinstance(data.get("details"), str) else None
    return MetaError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        title=title,
        message=message,
        details=details,
    )


def retryable(error: MetaError, status: int) -> bool:
    return status >= 500 or status == 429 or error.code in RETRYABLE_CODES


class GraphClient:
    def __init__(
        self,
        base_url: str,
        version: str,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/{version}/",
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )
        self._own_host = urlsplit(base_url).hostname or ""

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, token: str, **kwargs: Any) -> GraphResponse:
        try:
            response = await self._http.request(method, path, headers=_bearer(token), **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise GraphUnreachable(type(exc).__name__) from exc
        except httpx.TransportError as exc:
            raise GraphOutcomeUnknown(type(exc).__name__) from exc
        return GraphResponse(response.status_code, _payload(response))

    async def send_message(
        self, phone_number_id: str, token: str, body: dict[str, Any]
    ) -> GraphResponse:
        return await self._call("POST", f"{node(phone_number_id)}/messages", token, json=body)

    async def upload_media(
        self, phone_number_id: str, token: str, filename: str, mime_type: str, content: bytes
    ) -> GraphResponse:
        form = {"messaging_product": "whatsapp", "type": mime_type}
        files = {"file": (filename, content, mime_type)}
        return await self._call(
            "POST", f"{node(phone_number_id)}/media", token, data=form, files=files
        )

    async def media_info(self, media_id: str, token: str, phone_number_id: str) -> GraphResponse:
        params = {"phone_number_id": phone_number_id}
        return await self._call("GET", node(media_id), token, params=params)

    async def templates_page(
        self, waba_id: str, token: str, after: str | None, limit: int = 100
    ) -> GraphResponse:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        return await self._call("GET", f"{node(waba_id)}/message_templates", token, params=params)

    def allowed_media_host(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == self._own_host:
            return True
        meta = any(host == s or host.endswith(f".{s}") for s in META_HOST_SUFFIXES)
        return meta and parts.scheme == "https"

    async def open_download(self, url: str, token: str) -> httpx.Response:
        """Start streaming a media URL from `media_info`; the caller closes the response.

        The token is sent only to Meta's hosts, and redirects are not followed.
        """
        if not self.allowed_media_host(url):
            raise ForbiddenHost(urlsplit(url).hostname or "")
        request = self._http.build_request("GET", url, headers=_bearer(token))
        try:
            return await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise GraphUnreachable(type(exc).__name__) from exc
