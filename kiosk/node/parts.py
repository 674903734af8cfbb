"""Builds a node from its settings: the sled sensor the settings name, the pads that are fitted, the link."""

from collections.abc import Callable
from typing import Any

from kiosk.contract.version import VERSION
from kiosk.mqtt.sensor_link import SensorLink
from kiosk.node.encoder import EncoderSledSensor
from kiosk.node.node import SensorNode, SledSensor
from kiosk.node.pads import Pad, Zone
from kiosk.node.settings import EncoderSled, NodeSettings, PadSwitch
from kiosk.node.tof import TofSledSensor, header_i2c_bus

FIRMWARE = f"legpress-node {VERSION}"


def build_node(settings: NodeSettings, pin_factory: Any = None,
               open_i2c: Callable[[], Any] = header_i2c_bus) -> SensorNode:
    """The node with its parts open; `HardwareFault` if the sled sensor is not there, gpiozero's errors for
    a pin that cannot be had. `pin_factory` None is gpiozero's choice (lgpio on a Pi, or
    $GPIOZERO_PIN_FACTORY)."""
    sled: SledSensor
    if isinstance(settings.sled, EncoderSled):
        sled = EncoderSledSensor(settings.sled, pin_factory)
    else:
        tof = TofSledSensor(settings.sled, open_i2c)
        tof.open()
        sled = tof
    pads: list[Pad] = []
    fitted: tuple[tuple[Zone, PadSwitch], ...] = (("lumbar", settings.lumbar), ("pelvis", settings.pelvis))
    try:
        for zone, pad in fitted:
            if pad.pin is not None:
                pads.append(Pad(zone, pad, pin_factory))
    except Exception:
        sled.close()
        for made in pads:
            made.close()
        raise
    link = SensorLink(settings.broker_url, settings.site, settings.machine, FIRMWARE, settings.link_client_id)
    return SensorNode(sled, pads, link, settings.rate_hz)
