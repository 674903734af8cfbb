"""A subscriber that misses nothing while the broker restarts, and a broker that keeps sessions across it."""

import getpass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.dev.broker import DEV_CONF, Broker, Recording


def keeping_broker_conf(folder: Path) -> Path:
    """A dev broker config with persistence on: sessions and queued messages survive its restart, as on a
    kiosk's broker (rendered with persistence)."""
    store = folder / "store"
    store.mkdir(parents=True, exist_ok=True)
    conf = folder / "keeping.conf"
    # `user`: run as root, mosquitto would drop to the `mosquitto` user, which cannot write into the
    # test's private folder; the store would silently not be saved and every session lost.
    conf.write_text(DEV_CONF.read_text().replace(
        "persistence false", f"persistence true\npersistence_location {store}/\nuser {getpass.getuser()}"))
    return conf


class KeptSession(Recording[bytes]):
    """A subscriber whose session the broker keeps, as the kiosk's is: it misses nothing while the broker is away."""

    def __init__(self, broker: Broker, topic_filter: str, client_id: str = "kept-listener"):
        super().__init__(topic_filter)
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=MQTTProtocolVersion.MQTTv5)
        self._client.on_connect = lambda c, *_: c.subscribe(topic_filter, 1)
        self._client.on_message = lambda _c, _u, msg: self.add(bytes(msg.payload))
        self._client.reconnect_delay_set(0.1, 0.5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self._client.connect(broker.host, broker.port, clean_start=False, properties=props)
        self._client.loop_start()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
