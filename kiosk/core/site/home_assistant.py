"""Unit `home assistant`: owns `homeassistant/device/legpress_<site>_<machine>/config` (retained) and
listens on `homeassistant/status`.

Off by default (`home_assistant` in the config). When on, the kiosk publishes
its device discovery (kiosk.contract.discovery, checked against Home
Assistant's rules before it is sent) after every connect and whenever Home
Assistant says `online`, when the heartbeat (the telemetry interval) changes,
and once it first sees its own bridge notification (`R/kiosk/bridge`, written
by the brokers; only read here): from then on that is an availability topic
too. Turned off (or off at start while an earlier run's
device is still retained), it publishes the empty retained message that
removes the device. Entities read what the kiosk publishes anyway
(status, telemetry), so nothing else changes on the wire.
"""

import logging
from collections.abc import Callable

from kiosk.contract.config import KioskConfig
from kiosk.contract.discovery import HA_STATUS_TOPIC, asks_for_discovery, config_topic, device_discovery, removal
from kiosk.contract.kiosk import KioskInfo, read_bridge_state
from kiosk.core.unit import Unit, Wiring

log = logging.getLogger(__name__)


class HomeAssistantDiscovery(Unit):
    """The kiosk as one Home Assistant device, appearing and disappearing by one retained message."""

    def __init__(self, wiring: Wiring, info: Callable[[], KioskInfo]) -> None:
        """`info()`: the kiosk's info as presence publishes it (site, machine, model, versions)."""
        super().__init__(wiring)
        self._info = info
        self._enabled = False
        self._announced = False  # this run published the device (so turning it off must remove it)
        self._heartbeat_s = wiring.settings.tuning.telemetry_interval_s
        self._bridged = False  # a bridge notification came: the kiosk's broker is bridged to a site broker
        self.topic = config_topic(wiring.settings.site, wiring.settings.machine)

    def start(self) -> None:
        self.listen(HA_STATUS_TOPIC, self._status_message, qos=1)
        # Our own retained device, if an earlier run left one: removed when the setting is now off.
        self.listen(self.topic, self._own_device, qos=1)
        self.listen(self.wiring.topics.kiosk_bridge, self._bridge_message, qos=1)
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self._publish))

    def apply(self, config: KioskConfig) -> None:
        """The config in force changed: add or remove the device if the setting did."""
        heartbeat_changed = config.telemetry_interval_s != self._heartbeat_s
        self._heartbeat_s = config.telemetry_interval_s
        if config.home_assistant != self._enabled or (heartbeat_changed and self._enabled):
            self._enabled = config.home_assistant
            self._publish()

    def _publish(self) -> None:
        if not self.wiring.link.connected:
            return  # the connect hook publishes it
        if self._enabled:
            payload = device_discovery(self._info(), self._heartbeat_s, self._bridged).encode()
            self._announced = True
            log.info("Home Assistant discovery published on %s", self.topic)
        elif self._announced:
            payload = removal()
            self._announced = False
            log.info("Home Assistant device removed (%s)", self.topic)
        else:
            return
        self.wiring.link.publish(self.topic, payload, qos=1, retain=True)

    def _own_device(self, _topic: str, payload: bytes, _props: object, _at: float) -> None:
        if payload and not self._enabled:
            self._announced = True
            self._publish()

    def _bridge_message(self, _topic: str, payload: bytes, _props: object, _at: float) -> None:
        if self._bridged or read_bridge_state(payload) is None:
            return  # anything but mosquitto's 0 or 1 is not a bridge's word
        self._bridged = True
        if self._enabled:
            self._publish()

    def _status_message(self, topic: str, payload: bytes, _props: object, _at: float) -> None:
        # Home Assistant forgets devices when it restarts; its birth message asks for them again.
        if self._enabled and asks_for_discovery(topic, payload):
            self._publish()


