"""From pins to cues: a member's sled motion and lift-offs played into the node's mock pins, the node on a real
mosquitto, and a real kiosk process counting the reps and raising the cues the motion implies."""

import signal
import threading

from kiosk.contract.base import decode, encode
from kiosk.contract.events import KIOSK_EVENT, CueRaised, RepDone, SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.contract.sensor import LiftoffEvent
from kiosk.contract.topics import MachineTopics
from kiosk.dev.broker import publish
from kiosk.sim.motion import SledPath
from kiosk.sim.traces import LUMBAR_BACK_MM, LUMBAR_LIFTS_MM, TRACE_SETTINGS
from tests.support.helpers import eventually
from tests.support.kept_session import KeptSession
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk
from tests.support.node_parts import EncoderWire, PadRule, PadSwitchPin, mock_pins, play
from tests.support.running_node import running_node

TOPICS = MachineTopics("testgym", "lp1")
COUNTS_PER_MM = 2.0


def butt_wink_set() -> SledPath:
    """Off the catches to the member's top, then four reps: fine, past the lift-off point (the back peels
    off: a warning, and a lower max depth), shallower, and past it again (the second lift-off stops the set)."""
    top = TRACE_SETTINGS.top_mm
    path = SledPath(0.0, 0.0).move(top, 1.0).hold(1.5)
    for depth in (250.0, 266.0, 240.0, 266.0):
        path.move(depth, 2.4).hold(0.25).move(top, 1.6).hold(0.8)
    return path


def test_kiosk_counts_the_reps_and_stops_the_set_on_the_second_lumbar_liftoff(broker, collect, tmp_path) -> None:
    profile = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    status, events = collect(TOPICS.kiosk_status), collect(f"{TOPICS.root}/kiosk/event")
    liftoffs = collect(TOPICS.sensor_event)
    kiosk = start_kiosk(kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted)),
                        tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: decode(KioskStatus, m.payload).state == "ready", timeout=30)
        with mock_pins() as pins, running_node(broker.url, pins, sled={"counts_per_mm": COUNTS_PER_MM}) as node:
            wire = EncoderWire(pins, 23, 24, COUNTS_PER_MM)
            # The member sits down: both pads closed (with the chatter of real contacts).
            lumbar, pelvis = PadSwitchPin(pins, 17, pressed=False), PadSwitchPin(pins, 27, pressed=False)
            lumbar.change(lifted=False)
            pelvis.change(lifted=False)
            kiosk.stdin.write(keyring.code("m_sam", "Sam").encode() + b"\n")
            kiosk.stdin.flush()
            events.wait_for_event(SessionStart)
            stop = threading.Event()
            stopped = threading.Thread(target=lambda: (events.wait_for_event(SetEnd, timeout=60), stop.set()),
                                       daemon=True)
            stopped.start()
            play(butt_wink_set(), wire, lumbar=lumbar, rule=PadRule(LUMBAR_LIFTS_MM, LUMBAR_BACK_MM), stop=stop)
            set_end = events.wait_for_event(SetEnd, timeout=30)
            assert node.stats.faults == 0 and node.link.depth_skipped == 0
        received = events.events()
        reps = [e for e in received if isinstance(e, RepDone)]
        cues = {(e.cue, e.severity) for e in received if isinstance(e, CueRaised)}
        assert set_end.reps == len(reps) == 3
        assert [r.rep for r in reps] == [1, 2, 3]
        assert set_end.stopped and set_end.liftoffs == 2
        assert {("liftoff_lumbar", "warn"), ("liftoff_lumbar", "stop")} <= cues
        assert 262 <= set_end.max_depth_mm <= 270
        # Every lift-off once, however much the contacts chattered.
        lumbar_events = [decode(LiftoffEvent, m.payload) for m in liftoffs.messages]
        lumbar_events = [e for e in lumbar_events if e.zone == "lumbar"]
        assert [e.state for e in lumbar_events][:5] == ["end", "start", "end", "start", "end"][:len(lumbar_events)]
        assert sum(e.state == "start" for e in lumbar_events) == 2
    finally:
        kiosk.send_signal(signal.SIGTERM)
        kiosk.wait(15)


def test_a_liftoff_made_while_the_broker_restarts_still_raises_its_cue(keeping_broker, tmp_path) -> None:
    broker = keeping_broker
    profile = MemberProfile(member="m_sam", name="Sam", rev=3, updated=1.0, machines={"generic-45": TRACE_SETTINGS})
    publish(broker, "gym/v1/testgym/members/m_sam/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    status = KeptSession(broker, TOPICS.kiosk_status, "status-listener")
    events = KeptSession(broker, f"{TOPICS.root}/kiosk/event", "event-listener")
    kiosk = start_kiosk(kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted)),
                        tmp_path / "kiosk.log")

    def kiosk_events() -> list:
        return [KIOSK_EVENT.validate_json(p) for p in list(events.items)]

    try:
        status.wait_for(lambda p: decode(KioskStatus, p).state == "ready", timeout=30)
        with mock_pins() as pins, running_node(broker.url, pins, sled={"counts_per_mm": COUNTS_PER_MM}) as node:
            wire = EncoderWire(pins, 23, 24, COUNTS_PER_MM)
            lumbar, pelvis = PadSwitchPin(pins, 17, pressed=False), PadSwitchPin(pins, 27, pressed=False)
            lumbar.change(lifted=False)
            pelvis.change(lifted=False)
            eventually(lambda: node.stats.samples > 0, what="the node sampling")
            kiosk.stdin.write(keyring.code("m_sam", "Sam").encode() + b"\n")
            kiosk.stdin.flush()
            eventually(lambda: any(isinstance(e, SessionStart) for e in kiosk_events()), what="the session")
            # Off the catches to the top, then down into a rep: the set is open.
            play(SledPath(0.0, 0.0).move(TRACE_SETTINGS.top_mm, 1.0).hold(1.0).move(230.0, 2.4), wire)
            broker.stop()
            eventually(lambda: not node.link.connected, what="the node noticing the broker is gone")
            before = node.stats.events
            lumbar.change(lifted=True)  # the lower back peels off while nobody can hear it
            eventually(lambda: node.stats.events == before + 1, what="the lift-off noticed by the node")
            broker.start()
            cue = eventually(lambda: next((e for e in kiosk_events() if isinstance(e, CueRaised)
                                           and e.cue == "liftoff_lumbar"), None),
                             timeout=30, what="the lift-off's cue after the broker came back")
            assert cue.severity == "warn"
    finally:
        kiosk.send_signal(signal.SIGTERM)
        kiosk.wait(15)
        status.close()
        events.close()
