"""Through a real broker, a real headless kiosk process and the simulator's sensor node: a member's session
with a load ends with the `session summary:` line (today against last time, the next load and why), in the
site's unit; the saved profile keeps the visit and the next load in kilograms; the next tap-in says last time."""

import json
import signal
import subprocess
import sys
import time

from kiosk.contract.base import encode
from kiosk.contract.config import KG_PER_LB
from kiosk.contract.events import SessionEnd, SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile, Visit
from kiosk.dev.broker import publish
from kiosk.sim.traces import TRACE_SETTINGS
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk

STATUS = "gym/v1/testgym/lp1/kiosk/status"
SAVES = "gym/v1/testgym/lp1/kiosk/profile"
EVENTS = "gym/v1/testgym/lp1/kiosk/event"
HUNDRED_LB = round(100 * KG_PER_LB, 4)


def test_a_headless_session_in_pounds_says_today_against_last_time_and_keeps_the_next_load(broker, tmp_path,
                                                                                            collect):
    # Fifty reps a set before more load: the simulator's set is shorter, so the rule keeps the load.
    site = {"load_unit": "lb", "target_reps": 50, "scan_repeat_s": 0}
    publish(broker, "gym/v1/testgym/config/set", json.dumps(site), retain=True)
    before = Visit(date="2026-12-01", sets=2, reps=20, load_kg=HUNDRED_LB, best_reps=10, best_mean_velocity_mps=0.3)
    settings = TRACE_SETTINGS.model_copy(update={"load_kg": HUNDRED_LB, "history": [before]})
    profile = MemberProfile(member="m_lou", name="Lou", rev=2, updated=1.0, machines={"generic-45": settings})
    publish(broker, "gym/v1/testgym/members/m_lou/profile", encode(profile), retain=True)
    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events, saves = collect(STATUS), collect(EVENTS), collect(SAVES)
    log = tmp_path / "kiosk.log"
    proc = start_kiosk(env, log)
    try:
        assert proc.stdin is not None
        status.wait_for(lambda m: bool(m.payload) and m.decode(KioskStatus).state == "ready")
        proc.stdin.write((keyring.code("m_lou", "Lou") + "\n").encode())
        proc.stdin.flush()
        eventually(lambda: any(isinstance(e, SessionStart) for e in events.events()), what="Lou's session")
        eventually(lambda: "screen: Last time (2026-12-01): 2 sets, 20 reps; best set 100 lb x 10" in log.read_text(),
                   what="last time, in pounds")
        # Three sensor seconds a kiosk second: within the pace the kiosk believes of a node (MAX_PACE), so no
        # sample is refused as ahead of the stream, as `--fast` may be on a loaded machine.
        run = subprocess.run([sys.executable, "-m", "kiosk.sim.cli", "--broker", broker.url, "--site", "testgym",
                              "--machine", "lp1", "--scenario", "good", "--seed", "3", "--speed", "3"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        set_end = events.wait_for_event(SetEnd, timeout=30)
        assert set_end.load_kg == HUNDRED_LB and set_end.reps > 0
        proc.stdin.write(b"/finish\n")
        proc.stdin.flush()
        events.wait_for_event(SessionEnd, timeout=10)
        today = time.strftime("%Y-%m-%d")
        summary = (f"screen: session summary: Best set today: 100 lb x {set_end.reps} (last time 100 lb x 10). "
                   "Fastest push today: ")
        eventually(lambda: summary in log.read_text(), what="the session summary line")
        line = next(s for s in log.read_text().splitlines() if summary in s)
        assert "(last time 0.30 m/s)." in line and line.endswith(
            "Load for next time: 100 lb. The same again until every set reaches 50 reps.")
        saved = MemberProfile.model_validate_json(saves.wait_for(
            lambda m: MemberProfile.model_validate_json(m.payload).member == "m_lou").payload)
        kept = saved.machines["generic-45"]
        assert kept.load_kg == HUNDRED_LB  # kilograms in the profile, whatever the screen shows
        assert kept.history[0] == before and kept.history[-1].date == today
        assert (kept.history[-1].load_kg, kept.history[-1].best_reps) == (HUNDRED_LB, set_end.reps)

        proc.stdin.write((keyring.code("m_lou", "Lou") + "\n").encode())
        proc.stdin.flush()
        eventually(lambda: f"screen: Last time ({today}): 1 set, {set_end.reps} reps; best set 100 lb x "
                   f"{set_end.reps}" in log.read_text(), what="today, as last time, at the next tap-in")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
