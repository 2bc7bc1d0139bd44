"""Who is viewing or composing which conversation: kept in memory, never in the store (pure)."""

from datetime import UTC, datetime, timedelta
from typing import Literal

from hanout_shared.contracts.inbox import PresenceChanged

State = Literal["viewing", "composing", "left"]


def now() -> datetime:
    return datetime.now(UTC)


class PresenceBoard:
    """What every replica learned from inbox.presence.changed: each entry dies at `expires_at`."""

    def __init__(self) -> None:
        self._board: dict[str, dict[str, dict[str, PresenceChanged]]] = {}

    def apply(self, workspace_id: str, change: PresenceChanged) -> None:
        # A conversation's events share a partition: heartbeats arrive in the order sent.
        agents = self._board.setdefault(workspace_id, {}).setdefault(change.conversation_id, {})
        if change.state == "left":
            agents.pop(change.agent_id, None)
        else:
            agents[change.agent_id] = change

    def get(self, workspace_id: str, conversation_id: str, agent_id: str) -> PresenceChanged | None:
        return self._board.get(workspace_id, {}).get(conversation_id, {}).get(agent_id)

    def on(self, workspace_id: str, conversation_id: str, at: datetime) -> list[PresenceChanged]:
        agents = self._board.get(workspace_id, {}).get(conversation_id, {})
        return sorted((p for p in agents.values() if p.expires_at > at), key=lambda p: p.agent_name)

    def workspace(self, workspace_id: str, at: datetime) -> list[PresenceChanged]:
        return [
            presence
            for conversation in self._board.get(workspace_id, {})
            for presence in self.on(workspace_id, conversation, at)
        ]

    def due(
        self,
        workspace_id: str,
        conversation_id: str,
        agent_id: str,
        state: State,
        at: datetime,
        ttl: timedelta,
    ) -> bool:
        """Whether a heartbeat must be published: a new state, or the known one half expired.

        Heartbeats sent more often than every ttl/2 are absorbed here, so a chatty client does
        not turn into one event per beat.
        """
        kept = self.get(workspace_id, conversation_id, agent_id)
        if kept is None:
            return True
        return kept.state != state or kept.expires_at - at < ttl / 2

    def prune(self, at: datetime | None = None) -> None:
        at = at or now()
        for workspace_id, conversations in list(self._board.items()):
            for conversation_id, agents in list(conversations.items()):
                for agent_id in [a for a, p in agents.items() if p.expires_at <= at]:
                    del agents[agent_id]
                if not agents:
                    del conversations[conversation_id]
            if not conversations:
                del self._board[workspace_id]
