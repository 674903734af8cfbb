"""What the member and the headless log read of the training record: a rep's push, a set's figures, the volume."""

from kiosk.contract.events import RepDone, SessionEnd, SetEnd
from kiosk.contract.profile import MachineSettings
from kiosk.core.training.session import Session
from kiosk.words.event_lines import EventLines


def test_a_rep_with_a_load_reads_its_velocity_and_power_and_an_old_rep_reads_as_before():
    lines = EventLines()
    rep = RepDone(ts=1, session="s", rep=3, depth_mm=250, eccentric_s=2.5, concentric_s=1.2,
                  mean_velocity_mps=0.4234, peak_velocity_mps=0.66, rom_mm=190, power_w=287.6)
    assert lines.describe(rep).endswith("0.42 m/s, 288 W")
    old = RepDone(ts=1, session="s", rep=3, depth_mm=250, eccentric_s=2.5, concentric_s=1.2)
    assert "m/s" not in lines.describe(old)


def test_a_set_summary_says_how_much_the_pushes_slowed():
    end = SetEnd(ts=5, session="s", set_number=1, reps=6, max_depth_mm=290, liftoffs=0, load_kg=82.5,
                 best_mean_velocity_mps=0.25, velocity_loss_pct=31.4, tut_s=24.6)
    line = EventLines().describe(end)
    assert "82.5 kg" in line and "best push 0.25 m/s" in line and "slowed by 31%" in line and "25 s under load" in line


def test_the_session_volume_counts_only_sets_with_a_load():
    settings = MachineSettings(backrest_notch=3, target_depth_mm=250, max_depth_mm=300, top_mm=60)
    session = Session(member="m_ada", name="Ada", role="member", started=0.0, settings=settings, profile=None,
                      first_time=False)
    assert session.volume_kg is None
    session.sets += [SetEnd(ts=1, session="s", set_number=1, reps=10, max_depth_mm=250, liftoffs=0, load_kg=80),
                     SetEnd(ts=2, session="s", set_number=2, reps=8, max_depth_mm=250, liftoffs=0, load_kg=82.5),
                     SetEnd(ts=3, session="s", set_number=3, reps=5, max_depth_mm=250, liftoffs=0)]
    assert session.volume_kg == 80 * 10 + 82.5 * 8
    end = SessionEnd(ts=4, session="s", reason="logout", sets=3, reps=23, volume_kg=session.volume_kg)
    assert "Moved in all: 1,460 kg." in EventLines().describe(end)
