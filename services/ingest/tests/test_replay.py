"""Replaying a raw record re-derives exactly the events the webhook produced (same ids)."""

import pytest

from hanout_shared.contracts import topics
from ingest.webhooks.replay import rederive

from .ingest_builders import PNID_2, WABA_2, a_channel, example
from .ingest_harness import running_ingest


@pytest.mark.parametrize(
    "name", ["batch_multi_entry.json", "msg_with_value_errors.json", "msg_reaction_removed.json"]
)
async def test_a_raw_record_rederives_the_same_events(name: str) -> None:
    async with running_ingest() as ingest:
        await ingest.store.channels.add(a_channel(ingest.workspace_id, PNID_2, waba_id=WABA_2))
        await ingest.post_webhook(*example(name))
        [raw] = ingest.captured.messages[topics.WEBHOOKS_RAW]
        headers = dict(raw.raw_message.headers)
        assert headers["ce_type"] == b"whatsapp.webhook.received"
        channels = await ingest.deps.directory.lookup(set())
        replayed = rederive(raw.body, headers, channels)
        live = ingest.captured.derived()
        assert sorted(o.event.id for o in replayed) == sorted(e["id"] for e in live)
        by_id = {e["id"]: e for e in live}
        for outgoing in replayed:
            again = outgoing.event.model_dump(mode="json", exclude_none=True)
            assert again == by_id[outgoing.event.id]


async def test_a_body_dead_lettered_for_an_unknown_number_replays_into_events() -> None:
    async with running_ingest() as ingest:
        await ingest.post_webhook(*example("batch_multi_entry.json"))
        first = ingest.captured.derived()
        assert {e["data"]["reason"] for e in first if "reason" in e["data"]} == {"unknown_channel"}
        await ingest.store.channels.add(a_channel(ingest.workspace_id, PNID_2, waba_id=WABA_2))
        [raw] = ingest.captured.messages[topics.WEBHOOKS_RAW]
        channels = {c.phone_number_id: c for c in await ingest.store.channels.all_channels()}
        replayed = rederive(raw.body, dict(raw.raw_message.headers), channels)
        assert not [o for o in replayed if o.topic == topics.WHATSAPP_DEADLETTER]
        live_ids = {e["id"] for e in first}
        assert live_ids & {o.event.id for o in replayed}
        assert len(replayed) == 8
