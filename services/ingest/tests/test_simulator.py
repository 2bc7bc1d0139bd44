"""The Meta simulator: Meta's answer shapes, injected failures, and webhooks that come back
signed, duplicated, shuffled and retried like Meta's."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from hanout_shared.contracts import topics

from .ingest_builders import a_send, graph_file
from .ingest_harness import Ingest, running_ingest


def shape(value: Any) -> Any:
    """The keys and value types of a JSON document, ignoring the values themselves."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if k != "error_subcode"}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if result := check():
            return result
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def send_one(ingest: Ingest, content: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    await ingest.command(a_send(ingest.workspace_id, content, **kwargs))
    [request] = (await ingest.graph_requests("messages"))[-1:]
    return request


BEARER = {"Authorization": "Bearer EAAG-test"}


async def test_send_answers_have_metas_shapes() -> None:
    async with running_ingest() as ingest:
        text = {"messaging_product": "whatsapp", "to": "+212612345678", "type": "text",
                "text": {"body": "x"}}  # fmt: skip
        answer = await ingest.sim.post("/v25.0/1/messages", json=text, headers=BEARER)
        assert shape(answer.json()) == shape(graph_file("responses", "send_success.json"))
        bsuid = {**text, "recipient": "MA.1"}
        del bsuid["to"]
        answer = await ingest.sim.post("/v25.0/1/messages", json=bsuid, headers=BEARER)
        assert shape(answer.json()) == shape(graph_file("responses", "send_success_bsuid.json"))
        template = graph_file("requests", "send_template_positional.json")
        answer = await ingest.sim.post("/v25.0/1/messages", json=template, headers=BEARER)
        expected = graph_file("responses", "send_success_template_paced.json")
        assert shape(answer.json()) == shape(expected)
        read = graph_file("requests", "mark_as_read.json")
        answer = await ingest.sim.post("/v25.0/1/messages", json=read, headers=BEARER)
        assert answer.json() == graph_file("responses", "mark_as_read_success.json")


@pytest.mark.parametrize(
    "name",
    ["error_100_invalid_parameter.json", "error_130429_throughput.json",
     "error_131000_generic.json", "error_131026_undeliverable.json",
     "error_131047_reengagement.json", "error_131056_pair_rate_limit.json",
     "error_132000_template_param_count.json", "error_132001_template_not_found.json",
     "error_190_token_expired.json", "error_80007_waba_rate_limit.json"],
)  # fmt: skip
async def test_injected_errors_have_metas_shapes_and_codes(name: str) -> None:
    async with running_ingest() as ingest:
        expected = graph_file("responses", name)
        code = expected["error"]["code"]
        await ingest.sim.post("/_sim/failures", json={"code": code})
        text = graph_file("requests", "send_text.json")
        answer = await ingest.sim.post("/v25.0/1/messages", json=text, headers=BEARER)
        assert answer.status_code == {131000: 500, 190: 401}.get(code, 400)
        assert shape(answer.json()) == shape(expected)
        assert answer.json()["error"]["code"] == code
        again = await ingest.sim.post("/v25.0/1/messages", json=text, headers=BEARER)
        assert again.status_code == 200


async def test_a_call_without_a_token_or_with_an_expired_one_is_error_190() -> None:
    async with running_ingest() as ingest:
        text = graph_file("requests", "send_text.json")
        assert (await ingest.sim.post("/v25.0/1/messages", json=text)).status_code == 401
        await ingest.sim.post("/_sim/expired-tokens", json={"token": "EAAG-test"})
        answer = await ingest.sim.post("/v25.0/1/messages", json=text, headers=BEARER)
        assert answer.json()["error"]["code"] == 190


async def test_a_malformed_send_is_error_100() -> None:
    async with running_ingest() as ingest:
        bad = {"messaging_product": "whatsapp", "to": "+2126", "type": "text"}
        answer = await ingest.sim.post("/v25.0/1/messages", json=bad, headers=BEARER)
        assert answer.json()["error"]["code"] == 100


async def test_an_inbound_message_arrives_signed_at_ingest_as_an_event() -> None:
    async with running_ingest() as ingest:
        spec = {"type": "image", "content": {"id": "42", "mime_type": "image/jpeg",
                                             "sha256": "abc=", "caption": "chof"},
                "wa_id": "212600000001", "name": "Amina"}  # fmt: skip
        answer = (await ingest.sim.post("/_sim/inbound", json=spec)).json()
        events = await eventually(lambda: ingest.captured.events(topics.WHATSAPP_INBOUND))
        assert events[0]["data"]["wamid"] == answer["wamids"][0]
        assert events[0]["data"]["media"]["caption"] == "chof"
        assert events[0]["data"]["contact"]["profile_name"] == "Amina"


async def test_inbound_batches_and_duplicates_are_delivered_as_asked() -> None:
    async with running_ingest() as ingest:
        spec = {"count": 3, "duplicates": 1, "content": {"body": "wach kayn?"}}
        await ingest.sim.post("/_sim/inbound", json=spec)
        events = await eventually(
            lambda: (
                len(ingest.captured.events(topics.WHATSAPP_INBOUND)) == 6
                and ingest.captured.events(topics.WHATSAPP_INBOUND)
            )
        )
        assert len({e["id"] for e in events}) == 3
        assert len(ingest.captured.messages[topics.WEBHOOKS_RAW]) == 2


async def test_statuses_follow_a_send_duplicated_and_shuffled_on_request() -> None:
    async with running_ingest() as ingest:
        plan = {"auto_statuses": ["sent", "delivered", "read"], "shuffle_statuses": True,
                "duplicate_statuses": 1}  # fmt: skip
        await ingest.sim.put("/_sim/config", json=plan)
        command = a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"})
        await ingest.command(command)

        def statuses() -> list[dict[str, Any]]:
            found = ingest.captured.events(topics.WHATSAPP_STATUS)
            changed = [e for e in found if e["type"] == "whatsapp.message.status_changed"]
            return changed if len(changed) == 6 else []

        changed = await eventually(statuses)
        accepted = ingest.captured.events(topics.WHATSAPP_STATUS)[0]
        assert {e["data"]["wamid"] for e in changed} == {accepted["data"]["wamid"]}
        assert sorted(e["data"]["status"] for e in changed) == sorted(
            ["sent", "delivered", "read"] * 2
        )
        assert len({e["id"] for e in changed}) == 3
        key = command.data.idempotency_key
        assert {e["data"]["biz_opaque_callback_data"] for e in changed} == {key}
        assert all(e["subject"] == command.data.conversation_key for e in changed)


async def test_a_failed_status_can_be_played_for_an_accepted_message() -> None:
    async with running_ingest() as ingest:
        await ingest.command(a_send(ingest.workspace_id, {"kind": "text", "body": "Salam"}))
        wamid = ingest.captured.events(topics.WHATSAPP_STATUS)[0]["data"]["wamid"]
        spec = {"wamid": wamid, "statuses": ["read", "delivered", "sent"]}
        assert (await ingest.sim.post("/_sim/statuses", json=spec)).json()["delivery_id"]
        changed = await eventually(
            lambda: (
                len(ingest.captured.events(topics.WHATSAPP_STATUS)) == 4
                and ingest.captured.events(topics.WHATSAPP_STATUS)[1:]
            )
        )
        assert [e["data"]["status"] for e in changed] == ["read", "delivered", "sent"]


async def test_a_webhook_refused_by_ingest_is_retried_until_it_lands() -> None:
    async with running_ingest() as ingest:
        await ingest.sim.put("/_sim/config", json={"webhook_url": "http://ingest/not-here"})
        await ingest.sim.post("/_sim/inbound", json={"content": {"body": "retry me"}})

        async def attempts() -> int:
            rows = (await ingest.sim.get("/_sim/deliveries")).json()
            return int(rows[0]["attempts"])

        deadline = asyncio.get_running_loop().time() + 20
        while await attempts() < 3:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        await ingest.sim.put(
            "/_sim/config", json={"webhook_url": "http://ingest/webhooks/whatsapp"}
        )
        events = await eventually(lambda: ingest.captured.events(topics.WHATSAPP_INBOUND))
        assert events[0]["data"]["text"] == "retry me"
        [delivery] = (await ingest.sim.get("/_sim/deliveries")).json()
        assert delivery["delivered"] and 404 in delivery["statuses"]
        assert delivery["statuses"][-1] == 200


async def test_any_body_can_be_delivered_signed() -> None:
    async with running_ingest() as ingest:
        await ingest.sim.post("/_sim/webhooks", content=b'{"object":"page"}')
        dead = await eventually(lambda: ingest.captured.events(topics.WHATSAPP_DEADLETTER))
        assert dead[0]["data"]["reason"] == "wrong_object"
