"""Home Assistant as an MQTT client, as far as a device's availability goes, for tests against real brokers.

It reads the retained discovery payload and then follows what Home Assistant
follows: every availability topic (all must say online, `availability_mode:
all`; a topic never heard from counts as offline, and a payload that is
neither word leaves the topic as it was) and each sensor's state topic, whose
`expire_after` turns the entity unavailable when no message came for that long.
"""

import json
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.contract.discovery import Availability, DeviceDiscovery, config_topic
from kiosk.mqtt.broker_url import BrokerSecrets


class HomeAssistantView:
    """One device of one site, as Home Assistant would show it."""

    def __init__(self, secrets: BrokerSecrets, port: int, site: str, machine: str):
        self.topic = config_topic(site, machine)
        self._lock = threading.Lock()
        self._discovery: DeviceDiscovery | None = None
        self._payloads: dict[str, list[bytes]] = {}  # topic -> every payload, in order
        self._updated: dict[str, float] = {}  # state topic -> when a message last came (monotonic)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.username_pw_set(secrets.username, secrets.password)
        self._client.on_message = self._message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(self.topic, qos=1)
        self._client.subscribe(f"gym/v1/{site}/{machine}/kiosk/#", qos=1)
        self._client.loop_start()

    @property
    def discovery(self) -> DeviceDiscovery | None:
        with self._lock:
            return self._discovery

    def payloads(self, topic: str) -> list[bytes]:
        """Every payload received on `topic` (retained ones first), in order."""
        with self._lock:
            return list(self._payloads.get(topic, []))

    def available(self) -> bool:
        """The device's availability: every topic of its list says online."""
        with self._lock:
            if self._discovery is None:
                return False
            return all(self._online(a) for a in self._discovery.availability)

    def _online(self, availability: Availability) -> bool:
        verdicts = (availability.online(p) for p in reversed(self._payloads.get(availability.topic, [])))
        return next((v for v in verdicts if v is not None), False)

    def entity_available(self, key: str) -> bool:
        """One sensor entity: the device is available and its state has not expired."""
        if not self.available():
            return False
        with self._lock:
            assert self._discovery is not None
            component = self._discovery.components[key]
            updated = self._updated.get(component.state_topic or "")
        if updated is None:
            return False
        return component.expire_after is None or time.monotonic() - updated <= component.expire_after

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            if msg.topic == self.topic:
                self._discovery = DeviceDiscovery.model_validate(json.loads(msg.payload)) if msg.payload else None
                return
            self._updated[msg.topic] = time.monotonic()
            self._payloads.setdefault(msg.topic, []).append(msg.payload)
