"""A member at the machine as tests need them: with a saved profile, in the middle of a set."""

import json
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.contract.base import encode
from kiosk.contract.sensor import DepthSample
from kiosk.dev.broker import Broker, publish
from kiosk.sim.motion import SledPath
from tests.support.helpers import eventually
from tests.support.kiosk_harness import KioskUnderTest


def a_member_mid_set(broker: Broker, kiosk: KioskUnderTest) -> None:
    """Sam, with a saved profile (no guided setup), lowers the sled: a rep is under way and the set open."""
    settings = {"backrest_notch": 3, "max_depth_mm": 320, "target_depth_mm": 300, "top_mm": 40}
    profile = {"member": "m_sam", "name": "Sam", "rev": 1, "updated": 1.0, "machines": {"generic-45": settings}}
    publish(broker, "gym/v1/testgym/members/m_sam/profile", json.dumps(profile), retain=True)
    eventually(lambda: kiosk.profiles.book.rev("m_sam") == 1, what="Sam's profile at the kiosk")
    kiosk.scan(kiosk.keyring.code("m_sam"))
    eventually(lambda: kiosk.snapshot.member, what="Sam at the machine")
    # Stamped from 1.5 s ago to 2 s ahead: inside what the kiosk believes of a sensor's clock, sent at once.
    path = SledPath(time.time() - 1.5, 40.0).hold(0.3).move(300.0, 1.2).move(40.0, 1.0).move(250.0, 1.0)
    connected = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.on_connect = lambda *_args: connected.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert connected.wait(10), "the sensor node's connection"
        for seq in range(int(3.5 / 0.02)):
            ts = path.start + seq * 0.02
            sample = encode(DepthSample(seq=seq, ts=ts, mm=round(path.at(ts), 1)))
            client.publish("gym/v1/testgym/lp1/sensor/depth", sample, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()
    eventually(lambda: kiosk.snapshot.set_open, what="Sam's set open")
