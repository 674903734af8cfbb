"""Home Assistant MQTT discovery for a kiosk: one device, its entities and buttons, as data.

Device-based discovery: one retained message on
`homeassistant/device/<object id>/config` holds the device (`dev`), the origin
(`o`) and every entity (`cmps`, each with its platform `p` and unique id), so
the kiosk appears and disappears in Home Assistant by that one retained
message: the payload built here adds it, an empty retained payload on the same
topic removes it. Home Assistant says `online` on `homeassistant/status` when
it starts; the kiosk then publishes the payload again.

Availability comes from what the broker keeps about the kiosk, all of which
must say online (`availability_mode: all`): the kiosk's own retained status
(`ready` is online, `lost` or `disconnected` offline) and, for a kiosk behind
a bridge, the site broker's bridge notification (`1` online, `0` offline: the
kiosk's broker died with it, so its status cannot say so). Neither says
anything when the app died and its broker came back alone, and Home
Assistant's availability has no timer; its `expire_after` does: every entity
fed by the status (refreshed each heartbeat) or by telemetry turns
unavailable 2.5 heartbeats after the last one, as `legpress-fleet status`
calls the kiosk stale.
Entities read what the kiosk already publishes: mode from its status, sensor
health, sessions today and the last set's lift-off rate from its telemetry.
The two buttons send the contract's `in_service` and `out_of_order` commands.

The rules Home Assistant checks when it receives the payload are checked here
before anything is sent (`DeviceDiscovery` refuses a payload that breaks them):
a device with identifiers, an origin with a name, each entity with a known
platform and a unique id that no other entity of the device uses, a state
topic for each sensor, a command topic for each button.
"""

import json
import math
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk.contract.commands import InService, OutOfOrder
from kiosk.contract.kiosk import STALE_AFTER_HEARTBEATS, KioskInfo
from kiosk.contract.topics import MachineTopics
from kiosk.contract.version import VERSION as __version__

PREFIX = "homeassistant"
HA_STATUS_TOPIC = f"{PREFIX}/status"
HA_ONLINE = b"online"
ORIGIN_NAME = "legpress-kiosk"
ONLINE, OFFLINE = "online", "offline"
# A fixed transaction: a Home Assistant button sends the same payload on every press,
# and a kiosk answers every request anyway; operators' tools use fresh ones.
BUTTON_TRANSACTION = "home-assistant"
OUT_OF_ORDER_REASON = "set from Home Assistant"
MODES = ["idle", "session", "out_of_order", "maintenance"]


class _Discovery(BaseModel):
    # Strict about our own output: a misspelt key would be ignored by Home Assistant, silently.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class Device(_Discovery):
    """The kiosk as one Home Assistant device."""

    identifiers: Annotated[list[str], Field(min_length=1)]
    name: str
    manufacturer: str
    model: str
    sw_version: str


class Origin(_Discovery):
    """What published the discovery payload."""

    name: Annotated[str, Field(min_length=1)]
    sw_version: str


class Availability(_Discovery):
    """One availability topic, with the template (if any) that turns its payload into online or offline."""

    topic: str
    value_template: str | None = None
    payload_available: str = ONLINE
    payload_not_available: str = OFFLINE

    def online(self, payload: bytes) -> bool | None:
        """What Home Assistant makes of `payload` on this topic: True, False, or None (ignored, state kept).

        The one template used here (`value_json.state == 'ready'`) is evaluated as Home Assistant
        renders it; tests use this to check a discovery payload against what the broker holds.
        """
        text = payload.decode(errors="replace")
        if self.value_template is not None:
            try:
                state = json.loads(text).get("state")
            except (ValueError, AttributeError):
                return None
            text = self.payload_available if state == "ready" else self.payload_not_available
        if text == self.payload_available:
            return True
        return False if text == self.payload_not_available else None


class Component(_Discovery):
    """One entity of the device: a sensor or a button."""

    platform: Annotated[Literal["sensor", "button"], Field(alias="p")]
    unique_id: Annotated[str, Field(min_length=1)]
    name: str
    state_topic: str | None = None
    value_template: str | None = None
    device_class: str | None = None
    options: list[str] | None = None
    unit_of_measurement: str | None = None
    state_class: str | None = None
    suggested_display_precision: int | None = None
    json_attributes_topic: str | None = None
    json_attributes_template: str | None = None
    command_topic: str | None = None
    payload_press: str | None = None
    entity_category: Literal["config", "diagnostic"] | None = None
    icon: str | None = None
    expire_after: Annotated[int, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _topic_for_its_platform(self) -> Self:
        if self.platform == "sensor" and not self.state_topic:
            raise ValueError(f"sensor {self.unique_id} needs a state_topic")
        if self.platform == "button" and not self.command_topic:
            raise ValueError(f"button {self.unique_id} needs a command_topic")
        return self


class DeviceDiscovery(_Discovery):
    """The whole retained payload of `homeassistant/device/<object id>/config`."""

    device: Annotated[Device, Field(alias="dev")]
    origin: Annotated[Origin, Field(alias="o")]
    components: Annotated[dict[str, Component], Field(alias="cmps", min_length=1)]
    availability: Annotated[list[Availability], Field(min_length=1)]
    availability_mode: Literal["all", "any", "latest"] = "all"
    qos: Literal[0, 1, 2] = 1

    @model_validator(mode="after")
    def _unique_ids_are_unique(self) -> Self:
        ids = [c.unique_id for c in self.components.values()]
        if len(ids) != len(set(ids)):
            raise ValueError(f"unique ids must differ: {sorted(ids)}")
        return self

    def encode(self) -> bytes:
        return json.dumps(self.model_dump(mode="json", by_alias=True, exclude_none=True),
                          separators=(",", ":")).encode()


def object_id(site: str, machine: str) -> str:
    """The device's id in Home Assistant, unique across the sites a Home Assistant may see."""
    return f"legpress_{site}_{machine}"


def config_topic(site: str, machine: str) -> str:
    return f"{PREFIX}/device/{object_id(site, machine)}/config"


def expire_after(heartbeat_s: float) -> int:
    """Seconds after which Home Assistant stops believing an entity fed by the status or telemetry."""
    return math.ceil(STALE_AFTER_HEARTBEATS * heartbeat_s)


def device_discovery(info: KioskInfo, heartbeat_s: float, bridged: bool = False) -> DeviceDiscovery:
    """The discovery payload of the kiosk `info` describes (site, machine, model, version).

    `heartbeat_s`: how often the kiosk refreshes its status and sends telemetry; `bridged`: the kiosk's
    broker is bridged to a site broker that writes `R/kiosk/bridge` (without a bridge nothing ever
    writes it, and Home Assistant would hold the device unavailable for want of it).
    """
    topics = MachineTopics(info.site, info.machine)
    uid = object_id(info.site, info.machine)
    expiry = expire_after(heartbeat_s)

    def sensor(key: str, name: str, topic: str, template: str, **more: Any) -> tuple[str, Component]:
        return key, Component(platform="sensor", unique_id=f"{uid}_{key}", name=name, state_topic=topic,
                              value_template=template, expire_after=expiry, **more)

    def button(key: str, name: str, command: str, payload: InService | OutOfOrder) -> tuple[str, Component]:
        return key, Component(platform="button", unique_id=f"{uid}_{key}", name=name,
                              command_topic=topics.cmd(command), payload_press=payload.model_dump_json(),
                              icon="mdi:wrench")

    components = dict([
        sensor("mode", "Mode", topics.kiosk_status, "{{ value_json.mode }}", device_class="enum", options=MODES),
        sensor("sessions_today", "Sessions today", topics.kiosk_telemetry, "{{ value_json.sessions_today }}",
               state_class="total_increasing", icon="mdi:counter"),
        sensor("last_liftoff_rate", "Last set lift-off rate", topics.kiosk_telemetry,
               "{{ value_json.last_liftoff_rate }}", unit_of_measurement="per 100 reps",
               suggested_display_precision=1, state_class="measurement", icon="mdi:human-handsdown"),
        sensor("sensor_health", "Sensor rate", topics.kiosk_telemetry, "{{ value_json.sensor.rate_hz }}",
               unit_of_measurement="Hz", state_class="measurement", entity_category="diagnostic",
               json_attributes_topic=topics.kiosk_telemetry,
               json_attributes_template="{{ value_json.sensor | tojson }}"),
        button("in_service", "In service", "in_service", InService(transaction=BUTTON_TRANSACTION)),
        button("out_of_order", "Out of order", "out_of_order",
               OutOfOrder(transaction=BUTTON_TRANSACTION, reason=OUT_OF_ORDER_REASON)),
    ])
    return DeviceDiscovery(
        device=Device(identifiers=[uid], name=f"Leg press {info.machine}", manufacturer="legpress-kiosk",
                      model=info.machine_model, sw_version=info.version),
        origin=Origin(name=ORIGIN_NAME, sw_version=__version__),
        components=components,
        availability=[Availability(
            topic=topics.kiosk_status,
            value_template=f"{{{{ '{ONLINE}' if value_json.state == 'ready' else '{OFFLINE}' }}}}"),
            *([Availability(topic=topics.kiosk_bridge, payload_available="1", payload_not_available="0")]
              if bridged else [])],
    )


def removal() -> bytes:
    """The payload that removes the device: an empty retained message on its config topic."""
    return b""


def asks_for_discovery(topic: str, payload: bytes) -> bool:
    """True for Home Assistant's birth message, after which every device publishes its discovery again."""
    return topic == HA_STATUS_TOPIC and payload.strip() == HA_ONLINE
