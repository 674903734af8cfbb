"""Builds a node from its settings: the sled sensor the settings name, the pads that are fitted, the link."""

from collections.abc import Callable
from typing import Any

from kiosk.contract.version import VERSION
from kiosk.mqtt.sensor_link import SensorLink
from kiosk.node.encoder import EncoderSledSensor
from kiosk.node.fsr import Ads1115, FsrPad
from kiosk.node.node import SensorNode, SledSensor
from kiosk.node.pads import PadSensor, SwitchPad, Zone
from kiosk.node.settings import EncoderSled, NodeSettings, PadFsr, PadSwitch
from kiosk.node.tof import TofSledSensor, header_i2c_bus

FIRMWARE = f"legpress-node {VERSION}"


def build_node(settings: NodeSettings, pin_factory: Any = None,
               open_i2c: Callable[[], Any] = header_i2c_bus) -> SensorNode:
    """The node with its parts open; `HardwareFault` if the sled sensor or the pads' ADC is not there,
    gpiozero's errors for a pin that cannot be had. `pin_factory` None is gpiozero's choice (lgpio on a
    Pi, or $GPIOZERO_PIN_FACTORY); `open_i2c` opens the header's I2C bus (Blinka's), or a test's."""
    bus: list[Any] = []

    def shared_bus() -> Any:
        # The time-of-flight sensor and the ADC share the header's one I2C bus: opened once, when first asked.
        if not bus:
            bus.append(open_i2c())
        return bus[0]

    sled: SledSensor
    if isinstance(settings.sled, EncoderSled):
        sled = EncoderSledSensor(settings.sled, pin_factory)
    else:
        tof = TofSledSensor(settings.sled, shared_bus)
        tof.open()
        sled = tof
    pads: list[PadSensor] = []
    fitted: tuple[tuple[Zone, PadSwitch | PadFsr], ...] = (("lumbar", settings.lumbar), ("pelvis", settings.pelvis))
    adc: Ads1115 | None = None
    try:
        for zone, pad in fitted:
            if isinstance(pad, PadFsr):
                adc = adc or Ads1115(settings.adc_address, shared_bus)
                pads.append(FsrPad(zone, pad, adc))
            elif pad.pin is not None:
                pads.append(SwitchPad(zone, pad, pin_factory))
    except Exception:
        sled.close()
        for made in pads:
            made.close()
        raise
    link = SensorLink(settings.broker_url, settings.site, settings.machine, FIRMWARE, settings.link_client_id)
    return SensorNode(sled, pads, link, settings.rate_hz)
