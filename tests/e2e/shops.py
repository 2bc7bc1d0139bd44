"""A shop: a workspace that registered its business number through ingest's admin API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .clients import Agent, Channel, a_channel
from .stack import Stack


@dataclass
class Shop:
    """A workspace with one registered business number, its agent and its admin."""

    workspace_id: str
    channel: Channel
    agent: Agent
    admin: Agent

    async def close(self) -> None:
        await self.agent.close()
        await self.admin.close()


async def open_shop(stack: Stack, name: str) -> Shop:
    """A new workspace registers its number with the Meta app's id, as an admin would."""
    workspace_id, channel = f"{name}-{uuid.uuid4().hex[:8]}", a_channel()
    admin = Agent(stack, workspace_id, admin=True)
    await admin.ok(
        "ingest",
        "POST",
        "/channels",
        json={
            "phone_number_id": channel.phone_number_id,
            "meta_app_id": stack.meta_app_id,
            "access_token": f"EAAG{uuid.uuid4().hex}",
            "display_phone_number": channel.display_phone_number,
            "waba_id": channel.waba_id,
            "name": f"{name} boutique",
        },
    )
    return Shop(workspace_id, channel, Agent(stack, workspace_id), admin)
