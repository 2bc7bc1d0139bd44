"""Ingest's media upload, which turns a library file into a Meta media id for one number."""

from urllib.parse import quote

import httpx

from hanout_shared.platform.errors import ApiError


class IngestMedia:
    """Ingest's media upload (`POST /channels/{number}/media`), called with the agent's own
    token: ingest checks the agent's workspace owns the number, and no service secret exists."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def upload(
        self, token: str, phone_number_id: str, filename: str, mime_type: str, content: bytes
    ) -> str:
        try:
            answer = await self._client.post(
                f"/channels/{quote(phone_number_id, safe='')}/media",
                params={"filename": filename},
                content=content,
                headers={"Authorization": f"Bearer {token}", "Content-Type": mime_type},
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, "ingest_unreachable", "The media upload service is down") from exc
        if answer.status_code != 201:
            detail = (
                answer.json() if answer.headers.get("content-type") == "application/json" else {}
            )
            raise ApiError(
                502,
                "media_upload_failed",
                f"Uploading the file for this number failed ({answer.status_code})",
                [detail] if isinstance(detail, dict) and detail else None,
            )
        media_id: str = answer.json()["media_id"]
        return media_id

    async def aclose(self) -> None:
        await self._client.aclose()
