"""Delivery statuses of a send: forward only, early ones kept, failures shown, one retry a click."""

import random
from datetime import timedelta

from .builders import a_status, accepted, failed, key_of, now
from .conftest import TEXT, Service, a_conversation


async def sent_and_accepted(service: Service) -> tuple[str, str, str]:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    [command] = service.commands()
    wamid = "wamid.out-" + message["id"][:8]
    idem = command["data"]["idempotency_key"]
    await service.statuses(accepted(service.workspace, key_of(service.workspace), idem, wamid))
    return conversation, message["id"], wamid


async def test_statuses_duplicated_and_shuffled_end_at_read(service: Service) -> None:
    conversation, message_id, wamid = await sent_and_accepted(service)
    key, at = key_of(service.workspace), now()
    ticks = [
        a_status(service.workspace, key, wamid, status, at + timedelta(seconds=i))
        for i, status in enumerate(["sent", "delivered", "read"])
    ]
    shuffled = ticks * 2
    random.Random(7).shuffle(shuffled)
    await service.statuses(*shuffled)
    [message] = [
        m
        for m in (await service.get(f"/conversations/{conversation}/messages"))["items"]
        if m["id"] == message_id
    ]
    assert message["status"] == "read"
    assert set(message["status_times"]) == {"pending", "accepted", "sent", "delivered", "read"}
    assert message["status_times"]["sent"] < message["status_times"]["read"]


async def test_statuses_that_come_before_the_accepted_are_kept_and_applied(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    [command] = service.commands()
    key, wamid = key_of(service.workspace), "wamid.early"
    await service.statuses(a_status(service.workspace, key, wamid, "delivered", now()))
    stored = await service.store.messages.get(service.workspace, message["id"])
    assert stored is not None and stored.status == "pending"
    idem = command["data"]["idempotency_key"]
    await service.statuses(accepted(service.workspace, key, idem, wamid))
    stored = await service.store.messages.get(service.workspace, message["id"])
    assert stored is not None and stored.status == "delivered"
    assert service.store.parked.docs == {}


async def test_a_status_carrying_our_key_links_the_send_without_the_accepted(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    idem = service.commands()[0]["data"]["idempotency_key"]
    status = a_status(
        service.workspace,
        key_of(service.workspace),
        "wamid.w",
        "sent",
        now(),
        biz_opaque_callback_data=idem,
    )
    await service.statuses(status)
    stored = await service.store.messages.get(service.workspace, message["id"])
    assert stored is not None and (stored.status, stored.wamid) == ("sent", "wamid.w")


async def test_a_failed_send_shows_metas_error_and_a_retry_sends_once_more(
    service: Service,
) -> None:
    conversation = await a_conversation(service)
    message = (await service.send(conversation, TEXT)).json()
    [first] = service.commands()
    key = key_of(service.workspace)
    await service.statuses(failed(service.workspace, key, first["data"]["idempotency_key"]))
    stored = await service.store.messages.get(service.workspace, message["id"])
    assert stored is not None and stored.status == "failed"
    assert stored.error is not None and (stored.error.code, stored.failure_reason) == (
        131026,
        "meta_error",
    )
    url = f"/conversations/{conversation}/messages/{message['id']}/retry"
    retried = await service.http.post(url, headers=service.headers())
    again = await service.http.post(url, headers=service.headers())
    assert retried.json()["status"] == again.json()["status"] == "pending"
    assert retried.json()["attempt"] == 2
    commands = service.commands("whatsapp.message.send_requested")
    assert len(commands) == 2
    assert commands[1]["id"] != first["id"]
    assert commands[1]["data"]["idempotency_key"] != first["data"]["idempotency_key"]
    assert commands[1]["data"]["content"]["body"] == TEXT["body"]


async def test_a_message_that_did_not_fail_cannot_be_retried(service: Service) -> None:
    conversation, message_id, _ = await sent_and_accepted(service)
    url = f"/conversations/{conversation}/messages/{message_id}/retry"
    response = await service.http.post(url, headers=service.headers())
    assert (response.status_code, response.json()["code"]) == (409, "not_failed")
