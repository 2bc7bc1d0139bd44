"""HTTP routes of team work: assigning conversations, and the team's roster for the picker."""

from datetime import UTC, datetime
from types import EllipsisType
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hanout_shared.contracts import topics
from hanout_shared.contracts.inbox import ConversationAssigned, ConversationAssignedEvent
from hanout_shared.platform.auth import Agent, Principal
from hanout_shared.platform.errors import ApiError, ErrorBody
from hanout_shared.platform.outbox import outbox_entries
from inbox.conversations.model import (
    Assignment,
    Conversation,
    ConversationRow,
    present,
    state,
)
from inbox.deps import InboxDep, InboxDeps, actor
from inbox.documents import Document
from inbox.team.model import TeamMember
from inbox.values import SOURCE, Person, to_ms

router = APIRouter(tags=["team"])
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody} for code in (404, 409, 422)}
# Two agents racing for the same conversation: the loser sees the winner, unless it insisted.
ATTEMPTS = 3


class AssigneeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str | None = Field(
        min_length=1,
        max_length=200,
        description="Who takes it (yourself to self-assign); null frees it",
    )
    agent_name: str | None = Field(
        default=None, max_length=200, description="Their name, shown to the team"
    )
    expected_assignee_id: str | None = Field(
        default=None,
        description="Only if it is still assigned to this agent (null: still free); a "
        "different assignee answers 409 assignment_changed. Leave out to overwrite",
    )


def _outbox(row: ConversationRow, change: Assignment, agent: Principal) -> list[Document]:
    after = row.model_copy(update={"assignee": change.assignee})
    new, old = change.assignee, row.assignee
    data = ConversationAssigned(
        conversation=state(after),
        assignee_id=new.id if new else None,
        assignee_name=new.name if new else None,
        previous_assignee_id=old.id if old else None,
        previous_assignee_name=old.name if old else None,
        assigned_at=change.at,
    )
    event = ConversationAssignedEvent.create(
        source=SOURCE, workspaceid=row.workspace_id, subject=row.id, data=data, **actor(agent)
    )
    return outbox_entries(topics.INBOX_EVENTS, [event])


async def _assignee(inbox: InboxDeps, agent: Principal, body: AssigneeBody) -> Person | None:
    if body.agent_id is None:
        return None
    if body.agent_id == agent.agent_id:
        return Person(id=agent.agent_id, name=agent.name)
    if body.agent_name:
        return Person(id=body.agent_id, name=body.agent_name)
    team = {member.id: member.name for member in await inbox.store.agents.list(agent.workspace_id)}
    return Person(id=body.agent_id, name=team.get(body.agent_id, body.agent_id))


async def assign(
    inbox: InboxDeps,
    agent: Principal,
    conversation_id: str,
    who: Person | None,
    expected: str | None | EllipsisType,
) -> Conversation:
    """Give the conversation to `who` (None: free it) if its assignee is still `expected`
    (None: still free; `...`: whoever it is). Optimistic: the write applies only over the
    assignee it read, and a lost race is read again."""
    for _ in range(ATTEMPTS):
        row = await inbox.conversation(agent, conversation_id)
        current, now = row.assignee.id if row.assignee else None, datetime.now(UTC)
        if current == (who.id if who else None):
            return present(row, now)  # already so: nothing to record
        if expected is not ... and current != expected:
            holder = row.assignee.name if row.assignee else "nobody"
            raise ApiError(
                409, "assignment_changed", f"The conversation is now assigned to {holder}"
            )
        by = Person(id=agent.agent_id, name=agent.name)
        change = Assignment(conversation_id=row.id, assignee=who, by=by, at=to_ms(now))
        stores = inbox.store.conversations
        updated = await stores.assign(
            row.workspace_id, current, change, _outbox(row, change, agent)
        )
        if updated is not None:
            await inbox.relay.publish(stores.outbox, row.id)
            return present(updated, now)
    raise ApiError(409, "assignment_changed", "The assignment keeps changing; try again")


@router.put(
    "/conversations/{conversation_id}/assignee",
    summary="Assign, reassign or self-assign the conversation (agent_id null frees it)",
    responses=ERRORS,
)
async def put_assignee(
    conversation_id: str, body: AssigneeBody, agent: Agent, inbox: InboxDep
) -> Conversation:
    expected = body.expected_assignee_id if "expected_assignee_id" in body.model_fields_set else ...
    return await assign(
        inbox, agent, conversation_id, await _assignee(inbox, agent, body), expected
    )


@router.delete(
    "/conversations/{conversation_id}/assignee",
    summary="Leave the conversation free (unassign)",
    responses=ERRORS,
)
async def delete_assignee(conversation_id: str, agent: Agent, inbox: InboxDep) -> Conversation:
    return await assign(inbox, agent, conversation_id, None, ...)


@router.get("/agents", summary="The team: agents who have used the inbox, for the assignee picker")
async def list_agents(agent: Agent, inbox: InboxDep) -> list[TeamMember]:
    return await inbox.store.agents.list(agent.workspace_id)
