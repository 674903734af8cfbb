"""Every setting an operator can push applies when docs/mqtt.md says: live, or from the next session."""

import json

import pytest

from kiosk.contract.config import CueThresholds, KioskConfig
from kiosk.contract.tunables import WHEN_APPLIED
from kiosk.dev.broker import publish
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring, make_kiosk


@pytest.fixture
def kiosk(broker, tmp_path):
    keyring = Keyring(tmp_path)
    kiosk, screen = make_kiosk(broker.url, tmp_path / "data", keyring)
    kiosk.start()
    assert kiosk.link.wait_connected(10)
    kiosk.keyring, kiosk.screen = keyring, screen
    yield kiosk
    kiosk.stop()


def push(broker, kiosk, patch: dict) -> None:
    publish(broker, kiosk.topics.kiosk_config_set, json.dumps(patch), retain=True)
    eventually(lambda: kiosk.inbox.call(lambda: kiosk.config.model_dump(mode="json")) == KioskConfig.model_validate(
        {**kiosk.settings.tuning.model_dump(mode="json"), **patch}).model_dump(mode="json"), what="config applied")


def session(kiosk, member: str = "m_sam"):
    kiosk.scan(kiosk.keyring.code(member, "Sam"))
    eventually(lambda: kiosk.session is not None and kiosk.session.member == member, what="session")
    return kiosk.session


def test_every_pushed_setting_says_when_it_applies():
    fields = {name for name in KioskConfig.model_fields if name != "cues"}
    fields |= {f"cues.{name}" for name in CueThresholds.model_fields}
    assert set(WHEN_APPLIED) == fields


def test_version_is_reported_at_once(broker, kiosk):
    push(broker, kiosk, {"version": "lp1-evening"})
    assert kiosk.presence.info().config_version == "lp1-evening"
    assert kiosk.snapshot.config_version == "lp1-evening"


def test_idle_timeout_applies_to_the_member_at_the_machine(broker, kiosk):
    session(kiosk)
    push(broker, kiosk, {"idle_timeout_s": 0.5})
    eventually(lambda: kiosk.session is None, timeout=3, what="the session timed out on the new timeout")


def test_telemetry_interval_applies_from_the_next_report(broker, kiosk, collect):
    reports = collect(kiosk.topics.kiosk_telemetry)
    push(broker, kiosk, {"telemetry_interval_s": 1})
    kiosk.presence._next_telemetry = 0.0  # the report due in 30 s comes now: the next one 1 s after it
    # Two seconds of reports: the default wait, so a slow core thread under load is not taken for the old interval.
    eventually(lambda: len(reports.messages) >= 3, what="reports a second apart")


def test_sound_applies_to_the_next_cue_but_a_stop_always_sounds(broker, kiosk):
    from kiosk.contract.events import CueRaised

    session(kiosk)
    push(broker, kiosk, {"sound": False})
    warn = CueRaised(ts=1.0, session=None, cue="descent_fast", severity="warn", rep=1)
    kiosk.inbox.call(lambda: kiosk.sound.cue(warn))
    assert "warn.wav" not in kiosk.sound.played and "descent_fast.wav" not in kiosk.sound.played
    kiosk.press_pain()
    eventually(lambda: "pain_stop.wav" in kiosk.sound.played, what="a stop heard with sound off")
    # A warning never cuts a stop off, and on a loaded machine the player may still be on the stop:
    # silence it first, so what follows is about the setting and not about how long the player takes.
    kiosk.inbox.call(kiosk.sound.stop)
    push(broker, kiosk, {"sound": True})
    kiosk.inbox.call(lambda: kiosk.sound.cue(warn))
    assert kiosk.sound.played[-1] in ("warn.wav", "descent_fast.wav"), "warnings heard again"


def test_member_id_pattern_applies_to_the_next_scan(broker, kiosk):
    assert not kiosk.scan("gym123456") or kiosk.session is None
    push(broker, kiosk, {"member_id_pattern": "gym[0-9]{6}"})
    kiosk.scan("gym123457")
    eventually(lambda: kiosk.session is not None and kiosk.session.member == "gym123457", what="plain id admitted")


def test_scan_repeat_applies_to_the_next_read(broker, kiosk):
    code = kiosk.keyring.code("m_sam", "Sam")
    push(broker, kiosk, {"scan_repeat_s": 30})
    assert kiosk.scan(code) and not kiosk.scan(code)
    push(broker, kiosk, {"scan_repeat_s": 0})
    assert kiosk.scan(code)


def test_machine_models_shape_the_next_session(broker, kiosk):
    first = session(kiosk, "m_one")
    model = kiosk.settings.machine_model
    # Within the 10% a push may correct the kiosk's own model by (a safety floor).
    push(broker, kiosk, {"machine_models": {model: {"travel_mm": 460}}})
    assert kiosk.geometry.travel_mm == 460  # calibration and the sensor at once
    assert kiosk.engine.geometry.travel_mm == 500 and kiosk.session is first
    second = session(kiosk, "m_two")
    assert kiosk.engine.geometry.travel_mm == 460 and second.settings.max_depth_mm <= 460


CHANGED = {"descent_fast_s": 1.5, "shallow_fraction": 0.6, "depth_reached_tolerance_mm": 8.0,
           "lockout_margin_mm": 5.0, "bounce_mm_s2": 5000.0, "hysteresis_mm": 12.0, "liftoff_margin_mm": 25.0,
           "sensor_lost_s": 2.0, "set_rest_s": 5.0, "repeat_s": 4.0, "lumbar_liftoffs_to_stop": 1,
           "velocity_loss_pct": 30.0}


@pytest.mark.parametrize("name", list(CueThresholds.model_fields))
def test_each_cue_threshold_applies_from_the_next_session(broker, kiosk, name):
    assert getattr(CueThresholds(), name) != CHANGED[name]
    session(kiosk, "m_one")
    push(broker, kiosk, {"cues": {name: CHANGED[name]}})
    assert getattr(kiosk.engine.thresholds, name) == getattr(CueThresholds(), name)  # the member training keeps it
    session(kiosk, "m_two")
    assert getattr(kiosk.engine.thresholds, name) == CHANGED[name]
