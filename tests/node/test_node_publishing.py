"""The node on mock pins against a real mosquitto: what it says on `R/sensor/*`, and when it says nothing."""

import threading

from kiosk.contract.base import decode
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus
from kiosk.contract.topics import MachineTopics
from tests.support.helpers import eventually
from tests.support.kept_session import KeptSession
from tests.support.node_parts import EncoderWire, FakeVl53l1xBus, PadSwitchPin, mock_pins
from tests.support.running_node import running_node

TOPICS = MachineTopics("testgym", "lp1")
TOF = {"sled": {"kind": "tof", "extended_mm": 120.0, "bottom_mm": 620.0}}


def depth_of(collector) -> list[DepthSample]:
    return [decode(DepthSample, m.payload) for m in list(collector.messages) if m.topic == TOPICS.sensor_depth]


def statuses(collector) -> list[SensorStatus]:
    return [decode(SensorStatus, m.payload) for m in list(collector.messages) if m.topic == TOPICS.sensor_status]


def test_encoder_travel_goes_out_as_depth_with_seq_and_rising_timestamps(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    with mock_pins() as pins, running_node(broker.url, pins, sled={"counts_per_mm": 2.0}) as node:
        wire = EncoderWire(pins, 23, 24, counts_per_mm=2.0)
        wire.move_to(180.0)
        eventually(lambda: any(s.mm == 180.0 for s in depth_of(sensor)), what="a sample at 180 mm")
        wire.move_to(42.5)
        eventually(lambda: any(s.mm == 42.5 for s in depth_of(sensor)), what="a sample at 42.5 mm")
        ready = decode(SensorStatus, sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status).payload)
    samples = depth_of(sensor)
    assert [s.seq for s in samples] == list(range(len(samples)))
    assert all(b.ts > a.ts for a, b in zip(samples, samples[1:], strict=False))
    assert ready.state == "ready" and ready.fw.startswith("legpress-node") and ready.fault is None
    # Measured over the node's first second, not the configured rate copied out.
    assert 45 <= ready.rate_hz <= 55
    assert node.stats.faults == 0
    assert statuses(sensor)[-1].state == "disconnected"


def test_wire_out_of_range_is_a_fault_and_no_depth(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    with mock_pins() as pins, running_node(broker.url, pins, sled={"counts_per_mm": 1.0, "travel_mm": 600}):
        wire = EncoderWire(pins, 23, 24, counts_per_mm=1.0)
        wire.move_to(100)
        eventually(lambda: depth_of(sensor), what="depth")
        wire.move_to(900)  # the wire ran off its drum
        faulted = sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status
                                  and decode(SensorStatus, m.payload).fault is not None)
        assert "wire out of range" in decode(SensorStatus, faulted.payload).fault
        assert all(s.mm <= 600 for s in depth_of(sensor))
        wire.move_to(300)
        sensor.wait_for(lambda m: m.topic == TOPICS.sensor_depth and decode(DepthSample, m.payload).mm == 300)


def test_tof_sensor_that_stops_answering_gives_a_fault_status_and_no_samples(broker, collect) -> None:
    sensor = collect(f"{TOPICS.root}/sensor/#")
    bus = FakeVl53l1xBus(distance_mm=370.0)
    with mock_pins() as pins, running_node(broker.url, pins, bus=bus, **TOF) as node:
        sensor.wait_for(lambda m: m.topic == TOPICS.sensor_depth and decode(DepthSample, m.payload).mm == 250.0)
        bus.answering = False
        faulted = sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status
                                  and decode(SensorStatus, m.payload).fault is not None)
        status = decode(SensorStatus, faulted.payload)
        assert "stopped answering" in status.fault and "Remote I/O error" in status.fault
        assert status.state == "ready" and status.rate_hz == 0
        silent_from = len(depth_of(sensor))
        # The node keeps trying to reopen the sensor: wait for two tries, then no sample came in between.
        tries = bus.transfers
        eventually(lambda: bus.transfers >= tries + 2, what="two reopening tries")
        assert len(depth_of(sensor)) == silent_from
        bus.answering = True
        bus.distance_mm = 420.0
        sensor.wait_for(lambda m: m.topic == TOPICS.sensor_depth and decode(DepthSample, m.payload).mm == 300.0)
        sensor.wait_for(lambda m: m.topic == TOPICS.sensor_status and m is not faulted
                        and decode(SensorStatus, m.payload).fault is None
                        and decode(SensorStatus, m.payload).ts > status.ts)
        assert node.stats.faults == 1
    seqs = [s.seq for s in depth_of(sensor)]
    assert seqs == list(range(len(seqs)))  # no gap: nothing was numbered and not sent


def test_liftoffs_made_while_the_broker_restarts_are_all_delivered_in_order(keeping_broker) -> None:
    events = KeptSession(keeping_broker, TOPICS.sensor_event)
    try:
        with mock_pins() as pins, running_node(keeping_broker.url, pins) as node:
            lumbar = PadSwitchPin(pins, 17, pressed=True)
            events.wait_for(lambda p: decode(LiftoffEvent, p).state == "end")  # the member sat down
            keeping_broker.stop()
            eventually(lambda: not node.link.connected, what="the node noticing the broker is gone")
            for lifted in (True, False, True, False):
                lumbar.change(lifted)
                eventually(lambda n=node.stats.events: node.stats.events == n + 1, what="the lift-off noticed")
            keeping_broker.start()
            eventually(lambda: {decode(LiftoffEvent, p).seq for p in events.items} == {0, 1, 2, 3, 4}, timeout=20,
                       what="every lift-off after the restart")
            assert node.link.connected
    finally:
        events.close()
    # QoS 1 is at least once: a PUBACK lost to the broker's stop (seen under stress-ng) brings a message again,
    # byte for byte, as the kiosk expects (it drops a repeated seq). What must hold: no event lost, none new
    # out of order, nothing but exact repeats.
    first_seen: dict[bytes, None] = dict.fromkeys(events.items)
    received = [decode(LiftoffEvent, p) for p in first_seen]
    assert [e.seq for e in received] == [0, 1, 2, 3, 4]
    assert [e.state for e in received] == ["end", "start", "end", "start", "end"]
    assert {e.zone for e in received} == {"lumbar"}


class FlakySled:
    """A sled sensor whose driver raises what nobody foresaw (a struct.error from a short read, say)."""

    def __init__(self) -> None:
        self.failing = True
        self.closed = False

    def read(self) -> float:
        if self.failing:
            raise IndexError("bytearray index out of range")
        return 120.0

    def recover(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_an_unforeseen_error_never_stops_the_loop_nor_the_pads(broker, collect) -> None:
    from kiosk.mqtt.sensor_link import SensorLink
    from kiosk.node.node import SensorNode
    from kiosk.node.pads import SwitchPad
    from kiosk.node.settings import PadSwitch

    events = collect(TOPICS.sensor_event)
    with mock_pins() as pins:
        sled = FlakySled()
        node = SensorNode(sled, [SwitchPad("lumbar", PadSwitch(pin=17), pins)],
                          SensorLink(broker.url, TOPICS.site, TOPICS.machine, "test", "sensor-flaky"), 50.0)
        node.link.start()
        stop = threading.Event()
        beat = threading.Thread(target=node.run, args=(stop,), daemon=True)
        beat.start()
        try:
            eventually(lambda: node.stats.errors > 5, what="failing beats")
            PadSwitchPin(pins, 17, pressed=True)  # the pads are read before the sled: they still work
            events.wait_for(lambda m: decode(LiftoffEvent, m.payload).state == "end")
            sled.failing = False
            eventually(lambda: node.stats.samples > 0, what="samples once the sled reads again")
            assert beat.is_alive()
        finally:
            stop.set()
            beat.join(5)
            node.close()
    assert sled.closed


def test_a_long_fault_is_cut_to_what_the_contract_allows(broker, collect) -> None:
    from kiosk.mqtt.sensor_link import SensorLink

    status = collect(TOPICS.sensor_status)
    link = SensorLink(broker.url, TOPICS.site, TOPICS.machine, "test", "sensor-long")
    link.start()
    link.announce("ready", 50.0, "lumbar: " + "x" * 300)
    said = decode(SensorStatus, status.wait_for(lambda m: decode(SensorStatus, m.payload).fault is not None).payload)
    assert len(said.fault) == 200 and said.fault.startswith("lumbar: xxx")
    link.close()


def test_a_liftoff_held_while_the_broker_is_away_is_pending_until_the_broker_acknowledges_it(broker) -> None:
    from kiosk.mqtt.sensor_link import SensorLink

    link = SensorLink(broker.url, TOPICS.site, TOPICS.machine, "test", "sensor-pending")
    link.start()
    event = LiftoffEvent(seq=0, ts=1_800_000_000.0, type="liftoff", zone="lumbar", state="start")
    link.event(event)
    eventually(lambda: link.events_pending() == 0, what="the broker's acknowledgement")
    broker.stop()
    eventually(lambda: not link.connected, what="the link noticing")
    link.event(event.model_copy(update={"seq": 1}))
    assert link.events_pending() == 1
    broker.start()
    eventually(lambda: link.events_pending() == 0, timeout=20, what="the held lift-off acknowledged")
    link.close()
