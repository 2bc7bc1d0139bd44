"""The counts' reconciler: list counts a crash left unmoved are set right again, unasked.

A write that moves a conversation between lists marks it `uncounted` in that write and clears
the mark once the counts are moved (see the store). A mark older than `grace` outlived its write:
the process died in between. A sweep (at start-up, then every `interval_s`) recounts those
conversations' workspaces and clears their marks. Replicas may sweep together: a recount sets
counts to what the conversations hold, so a second one changes nothing.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from inbox.conversations.store.conversations import ConversationStore

logger = logging.getLogger("hanout.inbox")


class CountsReconciler:
    def __init__(
        self, conversations: ConversationStore, *, interval_s: float, grace_s: float
    ) -> None:
        self._conversations = conversations
        self._interval_s, self._grace = interval_s, timedelta(seconds=grace_s)
        self._task: asyncio.Task[None] | None = None

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
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a store outage: keep sweeping once it is back
                logger.warning("counts reconciliation failed", exc_info=True)
            await asyncio.sleep(self._interval_s)
