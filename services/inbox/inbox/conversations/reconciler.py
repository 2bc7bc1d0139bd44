"""The counts' reconciler: list counts a crash left unmoved are set right again, unasked.

A write that moves a conversation between lists marks it `uncounted` in that write and clears
the mark once the counts are moved (see the store). A mark older than `grace` outlived its write:
the process died in between. A sweep (at start-up, then every `interval_s`) recounts those
conversations' workspaces and clears their marks. Replicas may sweep together: a recount sets
counts to what the conversations hold, so a second one changes nothing.
"""

import logging
from datetime import timedelta

from hanout_shared.platform.periodic import Periodic
from inbox.conversations.store.conversations import ConversationStore

logger = logging.getLogger("hanout.inbox")


class CountsReconciler:
    def __init__(
        self, conversations: ConversationStore, *, interval_s: float, grace_s: float
    ) -> None:
        self._conversations = conversations
        self._grace = timedelta(seconds=grace_s)
        self._sweeps = Periodic("counts reconciliation", interval_s, self.sweep)

    async def sweep(self, grace: timedelta | None = None) -> list[str]:
        """Recount what marks older than `grace` (default: the setting) name; the workspaces."""
        recounted = await self._conversations.reconcile_counts(
            self._grace if grace is None else grace
        )
        if recounted:
            logger.warning(
                "list counts recounted after a crash", extra={"workspaces": recounted[:20]}
            )
        return recounted

    async def start(self) -> None:
        await self._sweeps.start()

    async def stop(self) -> None:
        await self._sweeps.stop()
