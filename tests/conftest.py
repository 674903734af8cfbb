"""Shared fixtures: a real mosquitto per test on a free port, and message collectors."""

from collections.abc import Iterator

import pytest

from kiosk.devbroker import Broker, Collector


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker().start()
    yield b
    b.close()


@pytest.fixture
def collect(broker: Broker) -> Iterator:
    """`collect(topic_filter)` returns a Collector on the test's broker; all are closed after."""
    made: list[Collector] = []

    def make(topic_filter: str) -> Collector:
        c = Collector(broker, topic_filter)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def kiosk(broker: Broker, tmp_path):
    """A started in-process Kiosk on the test's broker, with `.keyring` to mint codes and `.screen` recording."""
    from tests.kiosk_harness import Keyring, make_kiosk

    keyring = Keyring(tmp_path)
    k, screen = make_kiosk(broker.url, tmp_path / "data", keyring)
    k.keyring, k.screen = keyring, screen
    k.start()
    assert k.link.wait_connected(10)
    yield k
    k.stop()
