"""What a feature unit of the kiosk is, and what it is given.

Each feature (presence, sensor ingest, profile sync, operators, ...) is a
unit in the manner of zigbee2mqtt's extensions: it owns a set of topics,
registers them and its command handlers in `start()`, and its constructor
does no I/O, so a `Kiosk` can be built, inspected and thrown away without a
broker, a disk or a camera. `Kiosk` composes the units and keeps what spans
them: modes, sessions, pain and the observers.

Every MQTT message a unit subscribes to through `Unit.listen` is handled on
the core thread (the `Inbox`), with the kiosk-clock time it arrived, so no
unit needs a lock and the network thread never waits on kiosk logic. A unit
says which lane of the inbox a topic takes: lift-offs go first, depth samples
may be shed under a flood.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from paho.mqtt.properties import Properties
from pydantic import BaseModel

from kiosk.contract.topics import MachineTopics
from kiosk.core.command_desk import CommandDesk
from kiosk.core.inbox import Inbox, Lane
from kiosk.core.settings import KioskSettings
from kiosk.mqtt.link import MqttLink


@dataclass
class Clock:
    """Wall-clock time source, injectable so tests can move time."""

    now: Callable[[], float] = time.time


# A message for a unit, handled on the core thread: topic, payload, MQTT v5 properties, when it arrived.
MessageHandler = Callable[[str, bytes, Properties | None, float], None]


@dataclass(frozen=True)
class Wiring:
    """What the kiosk hands every unit: where it is, how to talk, and where its events go."""

    settings: KioskSettings
    topics: MachineTopics
    link: MqttLink
    inbox: Inbox
    clock: Clock
    commands: CommandDesk
    # A kiosk event (`R/kiosk/event`): recorded in the session, published, shown.
    emit: Callable[[BaseModel], None]
    # Something for the screen only (scan feedback, operator notices): not published.
    notify: Callable[[BaseModel], None]


class Unit:
    """One feature of the kiosk and the topics it owns; see the module docstring for the rules."""

    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring

    def start(self) -> None:
        """Open what the unit keeps on disk and register its topics and commands (before the link connects)."""

    def tick(self, now: float) -> None:
        """Called on the core thread about ten times a second, `now` on the kiosk clock."""

    def stop(self) -> None:
        """Close what `start` opened; the link is already down or about to go."""

    def listen(self, topic_filter: str, handler: MessageHandler, qos: int, lane: Lane = "jobs",
               retained: bool = True, ceiling_hz: float | None = None) -> None:
        """Subscribe `handler` to `topic_filter`; it runs on the core thread, never on paho's.

        `lane`: `urgent` for the safety signal (taken before anything else), `samples` for a stream the
        core may shed under a flood (see `kiosk.core.inbox`). `retained=False`: retained messages are
        ignored and counted (see `MqttLink.subscribe`), for requests that must act once. `ceiling_hz`: more
        messages a second is a flood, dropped at the broker for a moment (see `FloodGate`)."""
        clock, inbox = self.wiring.clock, self.wiring.inbox

        def on_message(topic: str, payload: bytes, properties: Properties | None) -> None:
            received_at = clock.now()
            inbox.post(lambda: handler(topic, payload, properties, received_at), lane)

        self.wiring.link.subscribe(topic_filter, on_message, qos=qos, retained=retained, ceiling_hz=ceiling_hz)
