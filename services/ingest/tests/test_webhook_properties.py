"""Property-based: whatever JSON Meta (or anyone holding the secret) sends, never a 500."""

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.webhooks.model.translate import Delivery, translate

from .ingest_builders import a_channel, example, example_names, sign
from .ingest_harness import running_ingest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
META_KEYS = (
    "object entry id changes field value metadata phone_number_id messages statuses errors "
    "contacts type timestamp from text reaction emoji order product_items item_price context"
).split()
meta_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["whatsapp_business_account", "messages", "110928374650192", "1782900000"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(META_KEYS), children, max_size=5)
    ),
    max_leaves=40,
)


def mutate(document: Any, path: list[int], replacement: Any) -> Any:
    """Replace one subtree of `document`, chosen by walking `path` through its children."""
    if not path or not isinstance(document, dict | list) or not document:
        return replacement
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = mutate(document[key], path[1:], replacement)  # type: ignore[index]
    return copy


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(example_names()),
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=9),
    replacement=json_values | meta_like,
)
def test_translation_of_a_damaged_example_never_raises(
    name: str, path: list[int], replacement: Any
) -> None:
    document = mutate(json.loads(example(name)[0]), path, replacement)
    if not isinstance(document, dict):
        return
    delivery = Delivery("sha", datetime.now(UTC), "test-app")
    result = translate(document, delivery, {"110928374650192": a_channel("ws")})
    for outgoing in result.outgoing:
        outgoing.event.model_dump_json()


SHARED_APP = HealthCheck.function_scoped_fixture  # one app for all examples: that is the point


class IngestInAThread:
    """One ingest app on its own event loop, so a synchronous hypothesis test can drive it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._context = running_ingest()
        self.ingest = self.run(self._context.__aenter__())

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def post(self, raw: bytes) -> int:
        response = self.run(self.ingest.post_webhook(raw, sign(raw)))
        return int(response.status_code)

    def close(self) -> None:
        self.run(self._context.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture(scope="module")
def ingest() -> Iterator[IngestInAThread]:
    running = IngestInAThread()
    yield running
    running.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[SHARED_APP])
@given(body=json_values | meta_like | st.binary(max_size=64))
def test_any_signed_body_gets_200_or_4xx_never_500(ingest: IngestInAThread, body: Any) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert ingest.post(raw) in (200, 400)


@settings(max_examples=200, deadline=None, suppress_health_check=[SHARED_APP])
@given(
    name=st.sampled_from(example_names()),
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=9),
    replacement=json_values | meta_like,
)
def test_any_damaged_example_gets_200_or_4xx_never_500(
    ingest: IngestInAThread, name: str, path: list[int], replacement: Any
) -> None:
    raw = json.dumps(mutate(json.loads(example(name)[0]), path, replacement)).encode()
    assert ingest.post(raw) in (200, 400)
