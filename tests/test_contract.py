"""The contract's models and topics accept what the spec shows and refuse everything else."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.contract import MAX_PAYLOAD_BYTES, topics
from kiosk.contract.base import PayloadError, decode, encode
from kiosk.contract.commands import COMMANDS, CommandReply, OutOfOrder, ShowMessage
from kiosk.contract.config import ConfigState, KioskConfig, merge_config
from kiosk.contract.events import KIOSK_EVENT, SetEnd
from kiosk.contract.ids import BadId, check_id
from kiosk.contract.kiosk import KioskInfo, KioskStatus, KioskTelemetry
from kiosk.contract.member_code import MemberClaims
from kiosk.contract.profile import MemberProfile
from kiosk.contract.reference import DOC, render
from kiosk.contract.sensor import DepthSample, LiftoffEvent, SensorStatus

# One example per payload, written the way the contract (shared/spec/mqtt-contract.md) shows it.
CONTRACT_EXAMPLES = [
    (DepthSample, {"seq": 0, "ts": 1764000000.25, "mm": 231.5}),
    (LiftoffEvent, {"seq": 3, "ts": 1764000001.0, "type": "liftoff", "zone": "lumbar", "state": "start"}),
    (SensorStatus, {"state": "ready", "ts": 1764000000.0, "fw": "1.4.2", "rate_hz": 50.0}),
    (KioskStatus, {"state": "ready", "mode": "idle", "ts": 1764000000.0, "version": "0.1.0", "boot": 7}),
    (KioskInfo, {"version": "0.1.0", "machine_model": "hammer-45", "config_version": "3",
                 "contract_version": "gym/v1", "site": "downtown", "machine": "lp-2"}),
    (KioskTelemetry, {"ts": 1.0, "uptime_s": 10.0, "memory_mb": 80.0, "cpu_temp_c": None, "fps": 59.8,
                      "sensor": {"rate_hz": 50.0, "last_seen_ts": 1.0, "invalid": 0, "dropped": 0},
                      "broker": {"connected": True}}),
    (KioskConfig, {"idle_timeout_s": 120, "cues": {"descent_fast_s": 1.5}}),
    (ConfigState, {"status": "error", "error": "idle_timeout_s: too small", "config": {}, "version": "3"}),
    (CommandReply, {"transaction": "t1", "status": "ok", "data": {"x": 1}, "error": None}),
    (MemberProfile, {"member": "m_7f3a9c", "name": "Sam", "rev": 4, "updated": 1764000000.0,
                     "machines": {"hammer-45": {"backrest_notch": 3, "seat_notch": 2, "foot_height": "mid",
                                                "foot_width": "shoulder", "toe_angle_deg": 15,
                                                "target_depth_mm": 320.0, "max_depth_mm": 360.0,
                                                "top_mm": 40.0, "notes": ""}}}),
    (MemberClaims, {"sub": "m_7f3a9c", "name": "Sam", "role": "member", "iat": 1764000000, "exp": 1795536000,
                    "kid": "front-desk-2026"}),
]

EVENT_EXAMPLES = [
    {"type": "session_start", "ts": 1.0, "session": "s1", "member": "m_7f3a9c", "role": "member"},
    {"type": "rep", "ts": 1.0, "session": "s1", "rep": 1, "depth_mm": 300.0, "eccentric_s": 2.4, "concentric_s": 1.1},
    {"type": "cue", "ts": 1.0, "session": "s1", "cue": "liftoff_lumbar", "severity": "warn", "rep": 2},
    {"type": "set_end", "ts": 1.0, "session": "s1", "set": 1, "reps": 8, "max_depth_mm": 330.0, "liftoffs": 0},
    {"type": "session_end", "ts": 1.0, "session": "s1", "reason": "timeout", "sets": 3, "reps": 24},
    {"type": "pain_report", "ts": 1.0, "session": "s1", "member": "m_7f3a9c", "kind": "sharp"},
    {"type": "scan_rejected", "ts": 1.0, "session": None, "reason": "expired"},
    {"type": "sensor_fault", "ts": 1.0, "session": None, "fault": "stale", "detail": "no depth for 1.2 s"},
    {"type": "profile_saved", "ts": 1.0, "session": "s1", "member": "m_7f3a9c", "rev": 5},
]


@pytest.mark.parametrize("model,example", CONTRACT_EXAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_model_accepts_its_contract_example_and_round_trips(model, example):
    parsed = decode(model, json.dumps(example))
    assert decode(model, encode(parsed)) == parsed


@pytest.mark.parametrize("example", EVENT_EXAMPLES, ids=lambda e: e["type"])
def test_every_event_type_parses_into_its_own_model(example):
    event = decode(KIOSK_EVENT, json.dumps(example))
    assert event.type == example["type"]
    assert json.loads(encode(event))["type"] == example["type"]


def test_set_end_speaks_set_on_the_wire():
    event = SetEnd(ts=1.0, set_number=2, reps=5, max_depth_mm=300.0, liftoffs=1)
    assert json.loads(encode(event))["set"] == 2


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_commands_reject_unknown_fields(name):
    with pytest.raises(PayloadError, match="Extra inputs"):
        decode(COMMANDS[name], json.dumps({"transaction": "t1", "reason": "x", "text": "x", "sneaky": 1}))


def test_commands_need_a_transaction_and_typed_arguments():
    with pytest.raises(PayloadError, match="transaction"):
        decode(OutOfOrder, b'{"reason": "broken cable"}')
    with pytest.raises(PayloadError, match="seconds"):
        decode(ShowMessage, b'{"transaction": "t", "text": "hi", "seconds": "10"}')


def test_config_rejects_unknown_keys_even_nested():
    with pytest.raises(PayloadError, match="Extra inputs"):
        decode(KioskConfig, b'{"cues": {"descent_fast": 2}}')


@pytest.mark.parametrize("raw", [
    b'{"seq": 1, "ts": 1.0, "mm": NaN}',
    b'{"seq": 1, "ts": 1.0, "mm": Infinity}',
    b'{"seq": 1, "ts": 1.0, "mm": -Infinity}',
    b'{"seq": 1, "ts": 1.0, "mm": 1e400}',
])
def test_sensor_samples_reject_non_finite_numbers(raw):
    with pytest.raises(PayloadError) as err:
        decode(DepthSample, raw)
    assert err.value.reason == "invalid"


@pytest.mark.parametrize("raw,why", [
    (b'{"seq": "1", "ts": 1.0, "mm": 10}', "seq"),
    (b'{"seq": 1.5, "ts": 1.0, "mm": 10}', "seq"),
    (b'{"seq": -1, "ts": 1.0, "mm": 10}', "seq"),
    (b'{"seq": 1, "ts": "now", "mm": 10}', "ts"),
    (b'{"seq": 1, "ts": 1.0, "mm": "10"}', "mm"),
    (b'{"seq": 1, "ts": 1.0, "mm": 99999}', "mm"),
    (b'{"seq": true, "ts": 1.0, "mm": 10}', "seq"),
    (b'{"seq": 1, "ts": 1.0}', "mm"),
])
def test_sensor_samples_reject_wrong_types_and_ranges(raw, why):
    with pytest.raises(PayloadError, match=why):
        decode(DepthSample, raw)


def test_sensor_samples_keep_unknown_fields_visible_for_counting():
    sample = decode(DepthSample, b'{"seq": 1, "ts": 1.0, "mm": 10, "temp": 21}')
    assert sample.unknown_fields == ["temp"]


@pytest.mark.parametrize("raw,reason", [
    (b"", "empty"),
    (b"[1, 2]", "not_object"),
    (b"{not json", "not_json"),
    (b"\xff\xfe{}", "not_object"),
    (b'{"seq": 1, "ts": 1.0, "mm": 1' + b" " * 10 + b"}", None),
])
def test_garbage_payloads_have_a_reason(raw, reason):
    if reason is None:
        assert decode(DepthSample, raw).mm == 1
        return
    with pytest.raises(PayloadError) as err:
        decode(DepthSample, raw)
    assert err.value.reason == reason


def test_oversized_payloads_are_refused_before_parsing():
    raw = b'{"seq": 1, "ts": 1.0, "mm": 1, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}'
    with pytest.raises(PayloadError) as err:
        decode(DepthSample, raw)
    assert err.value.reason == "too_large"


@pytest.mark.parametrize("bad", ["", "A", "lp 1", "-lp", "lp/1", "lp+", "#", "x" * 33, "lp1\n"])
def test_bad_ids_are_refused_in_payloads_and_topics(bad):
    with pytest.raises(PayloadError):
        decode(MemberProfile, json.dumps({"member": bad, "rev": 0, "updated": 0}))
    with pytest.raises(BadId):
        check_id(bad)
    with pytest.raises(ValueError):
        topics.MachineTopics("gym", bad)


def test_profile_keeps_fields_it_does_not_know():
    raw = {"member": "m1", "rev": 1, "updated": 1.0, "future": {"x": 1},
           "machines": {"m": {"backrest_notch": 1, "target_depth_mm": 1, "max_depth_mm": 2, "top_mm": 0, "grip": "x"}}}
    again = json.loads(encode(decode(MemberProfile, json.dumps(raw))))
    assert again["future"] == {"x": 1} and again["machines"]["m"]["grip"] == "x"


def test_every_topic_parses_back_to_what_built_it():
    t = topics.MachineTopics("downtown", "lp-2")
    expected = {
        t.sensor_depth: "sensor_depth", t.sensor_event: "sensor_event", t.sensor_status: "sensor_status",
        t.kiosk_status: "kiosk_status", t.kiosk_info: "kiosk_info", t.kiosk_telemetry: "kiosk_telemetry",
        t.kiosk_event: "kiosk_event", t.kiosk_config_set: "kiosk_config_set",
        t.kiosk_config_state: "kiosk_config_state",
    }
    for topic, kind in expected.items():
        parsed = topics.parse(topic)
        assert (parsed.kind, parsed.site, parsed.machine) == (kind, "downtown", "lp-2")
    assert topics.parse(t.cmd("end_session")) == topics.ParsedTopic("kiosk_cmd", "downtown", "lp-2", name="end_session")
    assert topics.parse(t.res("diagnostics")).kind == "kiosk_res"
    assert topics.parse(t.site_config_set).kind == "site_config_set"
    assert topics.parse(topics.broadcast_cmd("downtown", "message")).name == "message"
    assert topics.parse(t.profile("m_7f3a9c")).member == "m_7f3a9c"
    assert t.root == "gym/v1/downtown/lp-2"


@pytest.mark.parametrize("topic", [
    "gym/v2/site/lp1/sensor/depth", "gym/v1/Site/lp1/sensor/depth", "gym/v1/site/lp1/sensor/pressure",
    "gym/v1/site/lp1/kiosk/cmd/Bad-Name", "gym/v1", "", "gym/v1/site/members/BAD/profile",
])
def test_topics_outside_the_contract_parse_to_none(topic):
    assert topics.parse(topic) is None


@given(st.text(max_size=200))
def test_topic_parser_never_raises(topic):
    topics.parse(topic)


@given(st.binary(max_size=300))
def test_decoder_only_ever_raises_payload_error(raw):
    for model in (DepthSample, LiftoffEvent, KioskConfig):
        try:
            decode(model, raw)
        except PayloadError:
            pass


def test_merge_config_merges_tables_and_replaces_values():
    base = KioskConfig().model_dump()
    merged = merge_config(base, {"cues": {"descent_fast_s": 1.5}, "sound": False})
    config = KioskConfig.model_validate(merged)
    assert config.cues.descent_fast_s == 1.5 and config.cues.repeat_s == KioskConfig().cues.repeat_s
    assert config.sound is False


def test_mqtt_reference_is_current():
    assert DOC.read_text() == render(), "docs/mqtt.md is stale: run python -m kiosk.contract.reference --write"
