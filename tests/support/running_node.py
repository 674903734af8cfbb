"""The real node code in the test's process, on mock pins (and a fake I2C bus), beating in its own thread."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gpiozero.pins.mock import MockFactory

from kiosk.node.node import SensorNode
from kiosk.node.parts import build_node
from kiosk.node.settings import load_node_settings
from tests.support.node_parts import FakeVl53l1xBus


@contextmanager
def running_node(broker_url: str, pins: MockFactory, bus: FakeVl53l1xBus | None = None,
                 **settings: Any) -> Iterator[SensorNode]:
    """A started node: connected to `broker_url`, beating until the block ends, then closed (`disconnected`)."""
    config = load_node_settings(broker=broker_url, **{"site": "testgym", "machine": "lp1", **settings})
    node = build_node(config, pin_factory=pins, open_i2c=lambda: bus)
    stop = threading.Event()
    node.link.start()
    beat = threading.Thread(target=node.run, args=(stop,), name="node-beat", daemon=True)
    beat.start()
    try:
        yield node
    finally:
        stop.set()
        beat.join(10)
        node.close()
