"""Fixtures of the sensor node's tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.dev.broker import Broker
from tests.support.kept_session import keeping_broker_conf


@pytest.fixture
def keeping_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker that keeps sessions across its own restart (persistence on), as a kiosk's broker does."""
    broker = Broker(conf=keeping_broker_conf(tmp_path / "keeping")).start()
    yield broker
    broker.close()
