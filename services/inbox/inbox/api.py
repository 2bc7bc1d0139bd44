"""HTTP routes of the inbox."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from hanout_shared.platform.auth import Agent
from inbox.model import Conversation
from inbox.store import ConversationStore

router = APIRouter(prefix="/conversations", tags=["conversations"])


def _store(request: Request) -> ConversationStore:
    store: ConversationStore = request.app.state.store
    return store


@router.get("", summary="Conversations of the caller's workspace, most recent first")
async def list_conversations(
    agent: Agent, request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[Conversation]:
    return await _store(request).list_for_workspace(agent.workspace_id, limit)
