"""Bearer JWT verification (HS256 in development, RS256 through a JWKS URL in production)."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hanout_shared.platform.errors import ApiError

ROLES = frozenset({"agent", "admin"})


@dataclass(frozen=True)
class Principal:
    agent_id: str
    name: str
    workspace_id: str
    roles: frozenset[str]

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


def _unauthorized(code: str, message: str) -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


class Authenticator:
    def __init__(
        self, *, secret: str | None, jwks_url: str | None = None, audience: str | None = None
    ) -> None:
        self._secret = secret
        self._audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None

    async def verify(self, token: str) -> Principal:
        try:
            key, algorithms = await self._key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                options={"require": ["sub", "wid", "exp"], "verify_aud": bool(self._audience)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized("token_expired", "The access token has expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise _unauthorized("invalid_token", f"The access token is not valid: {exc}") from exc
        return _principal(claims)

    async def _key_for(self, token: str) -> tuple[Any, list[str]]:
        if self._jwks is not None:
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            return signing_key.key, ["RS256"]
        if not self._secret:
            raise ValueError("no verification key configured")
        return self._secret, ["HS256"]


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles") or ["agent"]
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise _unauthorized("invalid_token", "The token's roles claim must be a list of strings")
    if not isinstance(claims["sub"], str) or not isinstance(claims["wid"], str):
        raise _unauthorized("invalid_token", "The token's sub and wid claims must be strings")
    return Principal(
        agent_id=claims["sub"],
        name=str(claims.get("name") or claims["sub"]),
        workspace_id=claims["wid"],
        roles=frozenset(roles) & ROLES,
    )


def mint_dev_token(
    secret: str,
    *,
    agent_id: str,
    workspace_id: str,
    name: str | None = None,
    roles: Iterable[str] = ("agent",),
    ttl_s: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "sub": agent_id,
        "name": name or agent_id,
        "wid": workspace_id,
        "roles": sorted(roles),
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False, description="A Hanout JWT (claims sub, name, wid, roles)")


async def current_agent(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing_token", "An Authorization: Bearer <token> header is required")
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.verify(credentials.credentials)


def require_role(role: str) -> Callable[..., Awaitable[Principal]]:
    async def check(agent: Annotated[Principal, Depends(current_agent)]) -> Principal:
        if not agent.has_role(role):
            raise ApiError(403, "forbidden", f"This action needs the '{role}' role")
        return agent

    return check


Agent = Annotated[Principal, Depends(current_agent)]
Admin = Annotated[Principal, Depends(require_role("admin"))]
