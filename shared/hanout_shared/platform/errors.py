"""One error shape for every API: a status, a machine-readable `code` and a human `message`."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("hanout.errors")
STORE_RETRY_AFTER_S = 5


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, details=details)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class PlainTooLargeAsJson:
    """Starlette's body limiter answers a body declared too large in plain text, replacing our
    handler's answer: give that 413 the error shape of every other answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_json(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = dict(message.get("headers", []))
                if headers.get(b"content-type", b"").startswith(b"text/plain"):
                    replaced = True
                    answer = error_response(413, "body_too_large", "The request body is too large")
                    await answer(scope, receive, send)
                    return
            if not replaced:
                await send(message)

        await self.app(scope, receive, send_json)


def install_error_handlers(app: FastAPI) -> None:
    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = _field_errors(exc)
        fields = ", ".join(detail["field"] for detail in details)
        return error_response(422, "validation_failed", f"Invalid request: {fields}", details)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI's answer to a JSON body that is not text; other broken JSON is a 422
            details = [{"field": "body", "message": "The body is not UTF-8 JSON"}]
            return error_response(422, "validation_failed", "Invalid request: body", details)
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    async def on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The driver's message names hosts: the log keeps the kind of failure only.
        extra = {"path": request.url.path, "error": type(exc).__name__}
        logger.warning("store unavailable", extra=extra)
        message = "The store does not answer right now; retry shortly"
        retry = {"Retry-After": str(STORE_RETRY_AFTER_S)}
        return error_response(503, "store_unavailable", message, headers=retry)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "Something went wrong on our side")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(ConnectionFailure, on_store_unavailable)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_middleware(PlainTooLargeAsJson)
