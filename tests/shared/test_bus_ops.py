"""What an operator meets on the bus: a message that is no event goes to the dead letters at once,
whatever its content type, and a consumer's retries say which server they wait for."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid

import kombu
import pytest
from playhouse.pool import MaxConnectionsExceeded

from psa_shared import bus

from .test_bus import side_inbox
from .test_cli_startup_errors import free_port


@pytest.fixture
def consumer(psa):
    """A consumer of `client.created` on queues of its own (`test-opsfix-*`), deleted afterwards."""
    settings = dataclasses.replace(psa.settings, bus_prefix=f"test-opsfix-{uuid.uuid4().hex[:8]}.")
    consumer = bus.Consumer(settings, "unreadable", side_inbox(psa), {"client.created": lambda event, payload: None})
    yield consumer
    with bus.connect(settings) as connection:
        channel = connection.default_channel
        for queue in consumer.queues:
            queue.bind(channel).delete()
        for exchange in (bus.exchange(settings, "tickets"), bus.dead_letter_exchange(settings)):
            exchange.bind(channel).delete()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", "hello"), ("application/json", '{"not": "an event"}')],
    ids=["not-json", "json-but-no-event"],
)
def test_a_message_that_is_no_event_is_dead_lettered_at_once(consumer, caplog, content_type, body):
    """Until 2026-11-28 a text/plain one stopped the consumer (kombu's ContentDisallowed), which
    reconnected and met it again until RabbitMQ dropped it, every other event waiting meanwhile."""
    with bus.connect(consumer.settings) as connection:
        consumer.declare(connection)
        kombu.Producer(connection.default_channel).publish(
            body, exchange="", routing_key=consumer.queues[0].name, content_type=content_type, content_encoding="utf-8"
        )
        consumer.consume(connection, until_idle=1.0)
    assert bus.dead_letters(consumer) == 1
    assert "dead-lettered" in caplog.text


def test_a_consumer_waiting_for_rabbitmq_names_it_and_its_address_never_the_password(psa, caplog):
    settings = dataclasses.replace(
        psa.settings, broker_url=f"amqp://guest:hunter2-secret@127.0.0.1:{free_port()}//", bus_prefix="test-opsfix-"
    )
    loop = bus.consumer_loop(bus.Consumer(settings, "away", side_inbox(psa), {"client.created": lambda e, p: None}))
    caplog.set_level(logging.WARNING, logger="psa_shared.bus")
    loop.start()
    deadline = time.monotonic() + 10
    while "retrying" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    loop.stop()
    loop.join(timeout=5)
    retry = next(r.getMessage() for r in caplog.records if "retrying" in r.getMessage())
    assert "RabbitMQ at amqp://guest:**@127.0.0.1:" in retry and "hunter2-secret" not in caplog.text


@pytest.mark.parametrize(
    ("trouble", "logged"),
    [
        (MaxConnectionsExceeded("Exceeded maximum connections."), "every database connection is in use"),
        (RuntimeError("a bug in a step"), "step failed"),
    ],
)
def test_a_relay_meeting_an_unforeseen_error_waits_and_relays_on(trouble, logged, caplog):
    """`psa serve`'s request threads held every pooled connection for 15 s: the relay's step met
    MaxConnectionsExceeded, and until 2026-11-28 the thread ended, the outbox filling for good."""
    steps = []

    def step(stop):
        steps.append(time.monotonic())
        if len(steps) == 1:
            raise trouble
        stop.wait(0.05)

    loop = bus.BackgroundLoop("relay-tickets", step)
    with caplog.at_level(logging.WARNING):
        loop.start()
        deadline = time.monotonic() + 5
        while len(steps) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        loop.stop()
        loop.join(5)
    assert len(steps) >= 3 and steps[1] - steps[0] >= 0.5  # waited, then went on
    assert f"relay-tickets: {logged}; retrying in 0.5s" in caplog.text
