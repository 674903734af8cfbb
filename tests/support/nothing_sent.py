"""Showing that something was NOT published, without waiting a fixed time.

The broker hands each subscriber its messages in the order it took them in. A marker published after
the thing under test has had its chance (its command returned, its answer came) therefore reaches a
collector after anything that thing published, and after whatever the broker retained for the
collector's subscription (queued when it subscribed). Once the marker is in, what came before it is
all there will be.
"""

import time

from kiosk.dev.broker import Broker, Collector, Received, publish


def all_before_a_marker(broker: Broker, collector: Collector, topic: str) -> list[Received]:
    """What `collector` got before a marker published now on `topic` (a topic its filter matches; not
    retained, so it leaves nothing behind)."""
    marker = f"test marker {time.monotonic_ns()}".encode()
    publish(broker, topic, marker, qos=1)
    collector.wait_for(lambda m: m.payload == marker)
    return [m for m in collector.messages if m.payload != marker]
