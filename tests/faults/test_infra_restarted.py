"""The broker or the store stopped mid-stream and started again: ingest answers 503 meanwhile and
recovers within seconds, the APIs answer 503 while the store is down, consumers pause and resume,
and no event is skipped.

These stop the run's own broker and store, so they run only when the run started them (no
KAFKA_BOOTSTRAP_SERVERS / MONGODB_URL given); on a stack given from outside they skip."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from devtools.stack import Stack as Infra
from tests.e2e.clients import Pending, Simulator, eventually
from tests.e2e.shops import Shop

from .play import Play, stream
from .probe import Probe
from .reconcile import reconcile
from .stack import Faulty

pytestmark = pytest.mark.integration
log = logging.getLogger("tests.faults")
RECOVERY_BOUND_S = 10.0  # broker back → ingest answering 200 again


@pytest.fixture(scope="module")
def faulty(owned_infra: Infra, faulty: Faulty) -> Faulty:
    """The services, started only once the broker and store are known to be ours."""
    return faulty


async def _answered(probe: Probe, codes: set[int]) -> int | Pending:
    code = await probe.post()
    return code if code in codes else Pending(code)


async def test_the_broker_stopped_mid_stream_gets_503s_then_ingest_recovers_within_seconds(
    owned_infra: Infra,
    faulty: Faulty,
    shop: Shop,
    simulator: Simulator,
    record_property: Callable[[str, Any], None],
) -> None:
    kafka, timings = owned_infra.kafka, {}
    assert kafka is not None
    play = Play(shop, simulator)
    await play.open()
    probe = Probe(faulty.stack, play, play.customers[0], "Wach kayn chi haja?")

    async def fault() -> None:
        await asyncio.to_thread(kafka.stop)
        assert await eventually(lambda: _answered(probe, {503}), "ingest's 503", 30) == 503

    async def repair() -> None:
        timings["broker_start_s"] = await asyncio.to_thread(kafka.start)
        back = time.monotonic()
        await eventually(lambda: _answered(probe, {200}), "ingest's 200 again", 60)
        timings["ingest_recovery_s"] = time.monotonic() - back

    await stream(play, fault, repair)
    timings["reconcile_s"] = await reconcile(play)
    _report("broker", timings, record_property)
    ours = set(play.inbound)
    answers = {code for r in await simulator.deliveries() if ours & set(r["wamids"])
               for code in r["statuses"]}  # fmt: skip
    assert answers <= {200, 503}, f"ingest answered {sorted(answers)} (200 or 503 only)"
    assert timings["ingest_recovery_s"] <= RECOVERY_BOUND_S, timings


async def test_the_store_stopped_mid_stream_pauses_consumers_which_resume_skipping_nothing(
    owned_infra: Infra,
    faulty: Faulty,
    shop: Shop,
    simulator: Simulator,
    record_property: Callable[[str, Any], None],
) -> None:
    store, timings = owned_infra.store, {}
    assert store is not None
    play = Play(shop, simulator)
    await play.open()

    async def fault() -> None:
        await asyncio.to_thread(store.stop)
        # Meanwhile an API call waits for the store (the driver's 30 s), then says to retry.
        started = time.monotonic()
        answer = await shop.agent.call("customers", "GET", "/customers", timeout=90)
        timings["api_503_after_s"] = time.monotonic() - started
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "store_unavailable"
        assert answer.headers["retry-after"] == "5"

    async def repair() -> None:
        timings["store_start_s"] = await asyncio.to_thread(store.start)

    await stream(play, fault, repair)
    timings["reconcile_s"] = await reconcile(play)
    _report("store", timings, record_property)


def _report(what: str, timings: dict[str, float], record: Callable[[str, Any], None]) -> None:
    for name, seconds in timings.items():
        record(f"{what}_{name}", round(seconds, 2))
    log.info("%s restarted: %s", what, timings)
