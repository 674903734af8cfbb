"""The kiosk's presence on a real broker: retained status, Will, clean goodbye, late broker."""

import signal
import subprocess

import pytest

from kiosk.contract.events import ScanRejected, SessionEnd, SessionStart
from kiosk.contract.kiosk import KioskInfo, KioskStatus
from kiosk.dev.broker import Broker, Collector, Received
from tests.support.kiosk_process import kiosk_env, start_kiosk

STATUS = "gym/v1/testgym/lp1/kiosk/status"
INFO = "gym/v1/testgym/lp1/kiosk/info"


def _state(msg: Received) -> str:
    return msg.decode(KioskStatus).state if msg.payload else ""


@pytest.fixture
def kiosk_proc(broker, tmp_path):
    proc = start_kiosk(kiosk_env(broker.url, tmp_path / "data"), tmp_path / "kiosk.log")
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def test_new_subscriber_gets_retained_ready_status_and_info(broker, kiosk_proc, collect):
    first, first_info = collect(STATUS), collect(INFO)
    first.wait_for(lambda m: _state(m) == "ready")
    first_info.wait_for(lambda m: bool(m.payload))  # info follows ready: a collector made before it hears it live
    late = collect(STATUS)
    ready = late.wait_for(lambda m: _state(m) == "ready")
    assert ready.retain, "a late subscriber must get the status as a retained message"
    status = ready.decode(KioskStatus)
    assert status.mode == "idle" and status.boot == 1 and status.version
    info = collect(INFO).wait_for(lambda m: m.retain).decode(KioskInfo)
    assert info.machine_model == "generic-45"
    assert info.contract_version == "gym/v1"


def test_sigkill_makes_the_broker_publish_lost(broker, kiosk_proc, collect):
    status = collect(STATUS)
    status.wait_for(lambda m: _state(m) == "ready")
    kiosk_proc.kill()
    kiosk_proc.wait(5)
    lost = status.wait_for(lambda m: _state(m) == "lost", timeout=30)
    assert lost.decode(KioskStatus).boot == 1
    assert _state(collect(STATUS).wait_for(lambda m: m.retain)) == "lost"


def test_sigterm_publishes_disconnected_and_exits_zero(broker, kiosk_proc, collect):
    status = collect(STATUS)
    status.wait_for(lambda m: _state(m) == "ready")
    kiosk_proc.send_signal(signal.SIGTERM)
    assert kiosk_proc.wait(10) == 0
    status.wait_for(lambda m: _state(m) == "disconnected")
    retained = collect(STATUS).wait_for(lambda m: m.retain)
    assert _state(retained) == "disconnected", "a clean stop must not leave the Will behind"


def test_sigint_also_stops_cleanly(broker, kiosk_proc, collect):
    status = collect(STATUS)
    status.wait_for(lambda m: _state(m) == "ready")
    kiosk_proc.send_signal(signal.SIGINT)
    assert kiosk_proc.wait(10) == 0
    status.wait_for(lambda m: _state(m) == "disconnected")


def test_kiosk_started_before_the_broker_connects_once_it_is_up(tmp_path):
    broker = Broker()
    proc = start_kiosk(kiosk_env(broker.url, tmp_path / "data"), tmp_path / "kiosk.log")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(2.5)  # still running and retrying, not crashed
        broker.start()
        status = Collector(broker, STATUS)
        try:
            status.wait_for(lambda m: _state(m) == "ready", timeout=30)
        finally:
            status.close()
    finally:
        proc.kill()
        proc.wait(5)
        broker.close()


def test_boot_counter_grows_with_each_start(broker, tmp_path, collect):
    env = kiosk_env(broker.url, tmp_path / "data")
    status = collect(STATUS)
    for boot in (1, 2):
        proc = start_kiosk(env, tmp_path / f"kiosk{boot}.log")
        status.wait_for(lambda m, b=boot: _state(m) == "ready" and m.decode(KioskStatus).boot == b)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_bad_setting_stops_startup_with_one_line_naming_it(broker, tmp_path):
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_MACHINE="Leg Press #1")
    log = tmp_path / "kiosk.log"
    proc = start_kiosk(env, log)
    assert proc.wait(20) == 2
    out = log.read_text().strip().splitlines()
    assert len(out) == 1, out
    assert "LEGPRESS_MACHINE" in out[0] and "Leg Press #1" in out[0]


def test_headless_kiosk_takes_codes_typed_on_stdin(broker, tmp_path, collect):
    from tests.support.kiosk_harness import Keyring

    keyring = Keyring(tmp_path)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted))
    status, events = collect(STATUS), collect("gym/v1/testgym/lp1/kiosk/event")
    proc = start_kiosk(env, tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: _state(m) == "ready")
        proc.stdin.write(b"not a code\n" + keyring.code("m_sam", "Sam").encode() + b"\n")
        proc.stdin.flush()
        assert events.wait_for_event(ScanRejected).reason == "not_allowed"
        assert events.wait_for_event(SessionStart).member == "m_sam"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert events.wait_for_event(SessionEnd).reason == "shutdown", "stopped, not by an operator's command"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_running_kiosk_refreshes_its_ready_status_each_telemetry_interval(broker, kiosk, clock, collect):
    statuses = collect(STATUS)
    first = statuses.wait_for(lambda m: _state(m) == "ready").decode(KioskStatus)
    assert first.heartbeat_s == kiosk.config.telemetry_interval_s
    clock.advance(kiosk.config.telemetry_interval_s + 1)
    kiosk.ticked()
    again = statuses.wait_for(lambda m: _state(m) == "ready" and m.decode(KioskStatus).ts > first.ts)
    assert again.retain is False and again.decode(KioskStatus).boot == first.boot  # live, same boot


def test_after_its_goodbye_no_heartbeat_puts_ready_back(broker, kiosk, clock, collect):
    everything = collect("gym/v1/testgym/lp1/kiosk/#")
    everything.wait_for(lambda m: m.topic == STATUS and _state(m) == "ready")
    kiosk.presence.say_goodbye()  # as a clean stop does, before the link goes down
    clock.advance(kiosk.config.telemetry_interval_s + 1)
    kiosk.ticked()
    kiosk.inbox.call(kiosk.presence.publish_info)
    everything.wait_for(lambda m: m.topic == INFO)  # a barrier: the broker passes on one client's messages in order
    states = [_state(m) for m in everything.messages if m.topic == STATUS]
    assert states[-1] == "disconnected"
