"""Pads with force-sensitive resistors through an ADS1115 (Adafruit's driver on a fake bus): a threshold
with hysteresis and the debounce make one lift-off per real lift-off; an ADC that stops answering is a
fault in the status and no lift-off is made up."""

from kiosk.contract.base import decode
from kiosk.contract.sensor import LiftoffEvent, SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.node.faults import HardwareFault
from kiosk.node.fsr import Ads1115, FsrPad
from kiosk.node.settings import PadFsr, SettingsError, load_node_settings
from tests.support.helpers import eventually
from tests.support.node_parts import FakeAds1115Bus, mock_pins
from tests.support.running_node import running_node

TOPICS = MachineTopics("testgym", "lp1")
LUMBAR_FSR = {"kind": "fsr", "channel": 1, "pressed_v": 1.2, "released_v": 0.6, "debounce_ms": 30}


def pad_on(bus: FakeAds1115Bus) -> FsrPad:
    return FsrPad("lumbar", PadFsr(**LUMBAR_FSR), Ads1115(0x48, lambda: bus))


def test_a_reading_wandering_between_the_thresholds_changes_nothing() -> None:
    bus = FakeAds1115Bus(volts={1: 2.0})
    pad = pad_on(bus)
    assert not pad.lifted
    changes = []
    # The back rests lightly: the reading wanders between 0.7 and 1.1 V, never past either threshold.
    for beat, volts in enumerate([1.1, 0.7, 1.0, 0.75, 1.15, 0.65, 0.9] * 4):
        bus.volts[1] = volts
        changes.append(pad.poll(beat * 0.02))
    assert changes == [None] * 28
    assert bus.conversions >= 29  # every beat was a real conversion through the driver


def test_a_lift_off_and_its_return_are_one_start_and_one_end_despite_noise_at_the_edges() -> None:
    bus = FakeAds1115Bus(volts={1: 2.0})
    pad = pad_on(bus)
    seen, now = [], 0.0
    # Lifting: the reading falls through the band, flickers once back above pressed_v, then stays low.
    for volts in [1.5, 0.9, 0.5, 1.3, 0.4, 0.3, 0.3, 0.3, 0.2, 0.3, 0.3, 0.9, 1.6, 0.5, 1.8, 1.9, 2.0, 2.0, 2.0, 2.0]:
        bus.volts[1] = volts
        change = pad.poll(now)
        if change is not None:
            seen.append((change.lifted, round(change.at, 2)))
        now += 0.02
    assert seen == [(True, 0.04), (False, 0.24)]


def test_pads_have_their_thresholds_the_right_way_round() -> None:
    try:
        load_node_settings(site="gym", machine="lp1", lumbar={**LUMBAR_FSR, "released_v": 1.5})
    except SettingsError as exc:
        assert "released_v (1.5 V) must be below pressed_v (1.2 V)" in str(exc)
    else:
        raise AssertionError("thresholds without hysteresis were accepted")


def test_a_missing_adc_is_one_line() -> None:
    bus = FakeAds1115Bus(address=0x49)
    try:
        Ads1115(0x48, lambda: bus)
    except HardwareFault as exc:
        assert str(exc) == "no ADS1115 at I2C address 0x48: ValueError: No I2C device at address: 0x48"
    else:
        raise AssertionError("an ADC that is not there was opened")


def test_fsr_liftoffs_reach_the_broker_and_a_silent_adc_is_a_fault_not_a_liftoff(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    bus = FakeAds1115Bus(volts={1: 2.0})

    def events() -> list[LiftoffEvent]:
        return [decode(LiftoffEvent, m.payload) for m in list(sensor.messages) if m.topic == TOPICS.sensor_event]

    with mock_pins() as pins, running_node(broker.url, pins, bus=bus, lumbar=LUMBAR_FSR) as node:
        eventually(lambda: node.measured_hz > 0, what="the node beating")
        bus.volts[1] = 0.2
        eventually(lambda: [e.state for e in events()] == ["start"], what="the lift-off")
        bus.answering = False
        faulted = sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status
                                  and (decode(SensorStatus, m.payload).fault or "").startswith("lumbar:"))
        status = decode(SensorStatus, faulted.payload)
        assert "ADS1115 at 0x48 stopped answering" in status.fault
        assert status.rate_hz > 0, "the sled is still measured: only the pad is unknown"
        bus.volts[1] = 2.0  # the member sat back while the ADC was away
        conversions, beats = bus.conversions, node.stats.beats
        eventually(lambda: node.stats.beats > beats + 60, what="beats without the ADC")
        assert bus.conversions == conversions and [e.state for e in events()] == ["start"]
        bus.answering = True
        eventually(lambda: [e.state for e in events()] == ["start", "end"], what="the return, once the ADC is back")
        sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status and decode(SensorStatus, m.payload).fault is None
                        and decode(SensorStatus, m.payload).ts > status.ts)
    assert [e.seq for e in events()] == [0, 1]
