"""The kiosk tells systemd it is ready only once its broker link is up, and its watchdog pings
come from the core thread: a wedged core goes quiet and systemd restarts it.

Only systemd is played by the test: it binds the datagram socket `NOTIFY_SOCKET` names and reads
what a real `legpress-kiosk --headless` process sends over the real notify protocol.
"""

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.topics import MachineTopics
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from kiosk.core.site.service_manager import ServiceNotifier, notify_address, watchdog_interval
from kiosk.dev.broker import Broker, Collector
from tests.support.helpers import eventually
from tests.support.kiosk_process import kiosk_env, start_kiosk
from tests.support.stalling_kiosk import WEDGED

# A ping every half second: fast enough for a test, the same rule as WatchdogSec=10 on a Pi.
WATCHDOG_USEC = 1_000_000
PING_EVERY_S = WATCHDOG_USEC / 2_000_000


class FakeSystemd:
    """The service manager's end of sd_notify: a datagram socket, every message with when it came."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.messages: list[tuple[float, str]] = []
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(notify_address(name))
        self._socket.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            for line in data.decode().splitlines():
                self.messages.append((time.monotonic(), line))

    def times(self, message: str) -> list[float]:
        return [at for at, line in list(self.messages) if line == message]

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._socket.close()


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[FakeSystemd]:
    manager = FakeSystemd(str(tmp_path / "notify"))
    yield manager
    manager.close()


def run_kiosk(env: dict[str, str], log: Path, module: str = "kiosk.app") -> subprocess.Popen[bytes]:
    if module == "kiosk.app":
        return start_kiosk(env, log)
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", module], env=env, stdin=subprocess.PIPE, stdout=out,
                                stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_ready_comes_only_once_the_broker_link_is_up_and_the_watchdog_keeps_pinging(systemd, tmp_path):
    broker = Broker()  # its port is chosen, but nothing listens there yet
    env = kiosk_env(broker.url, tmp_path / "data", NOTIFY_SOCKET=systemd.name, WATCHDOG_USEC=str(WATCHDOG_USEC))
    proc = run_kiosk(env, tmp_path / "kiosk.log")
    try:
        eventually(lambda: len(systemd.times("WATCHDOG=1")) >= 3, timeout=20, what="watchdog pings before the broker")
        assert systemd.times("READY=1") == [], "ready before any broker was there"
        broker.start()
        status = Collector(broker, MachineTopics("testgym", "lp1").kiosk_status)
        try:
            ready_at = eventually(lambda: systemd.times("READY=1"), timeout=40, what="READY=1 after the broker came")
            retained = status.wait_for(lambda m: m.decode(KioskStatus).state == "ready", timeout=10)
            assert retained.decode(KioskStatus).state == "ready"
        finally:
            status.close()
        # Four pings after READY, however slowly a loaded machine schedules the process; the gaps between
        # them are the rule (systemd kills a kiosk whose pings stop for the whole watchdog interval).
        def pings_after_ready() -> list[float]:
            return [at for at in systemd.times("WATCHDOG=1") if at > ready_at[0]]

        eventually(lambda: len(pings_after_ready()) >= 4, timeout=20, what="four watchdog pings after READY")
        after = pings_after_ready()
        gaps = [b - a for a, b in zip(after, after[1:], strict=False)]
        assert max(gaps) < 3 * PING_EVERY_S, f"pings came {max(gaps):.2f} s apart"
        assert len(systemd.times("READY=1")) == 1, "READY=1 is said once"
        stop(proc)
        assert proc.returncode == 0, (tmp_path / "kiosk.log").read_text()[-2000:]
        assert systemd.times("STOPPING=1"), "no STOPPING=1 on a clean stop"
    finally:
        stop(proc, signal.SIGKILL)
        broker.close()


def test_a_wedged_core_thread_stops_the_watchdog_pings_while_the_process_lives_on(tmp_path):
    broker = Broker().start()
    # An abstract socket name (systemd's `@...` form) this time.
    systemd = FakeSystemd(f"@legpress-test-{tmp_path.name}-{time.monotonic_ns()}")
    env = kiosk_env(broker.url, tmp_path / "data", NOTIFY_SOCKET=systemd.name, WATCHDOG_USEC=str(WATCHDOG_USEC))
    proc = run_kiosk(env, tmp_path / "kiosk.log", module="tests.support.stalling_kiosk")
    try:
        eventually(lambda: systemd.times("READY=1"), timeout=20, what="READY=1")
        eventually(lambda: len(systemd.times("WATCHDOG=1")) >= 3, timeout=10, what="pings while the core runs")
        proc.send_signal(signal.SIGUSR1)
        # Under load the wedge can start well after the signal: wait for it, then mark the end of the pings
        # sent before it with a datagram of our own (the socket keeps their order, however late they are read).
        eventually(lambda: WEDGED in (tmp_path / "kiosk.log").read_text(), timeout=20, what="the core wedged")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as marker:
            marker.sendto(b"TEST=wedged", notify_address(systemd.name))
        eventually(lambda: systemd.times("TEST=wedged"), what="the marker read")
        time.sleep(8 * PING_EVERY_S)
        lines = [line for _at, line in list(systemd.messages)]
        late = lines[lines.index("TEST=wedged"):].count("WATCHDOG=1")
        assert late == 0, f"{late} pings from a wedged core"
        assert proc.poll() is None, "the process died; the test is of a live process with a stuck core"
    finally:
        stop(proc, signal.SIGKILL)
        systemd.close()
        broker.close()


def test_outside_systemd_the_notifier_does_nothing_and_a_watchdog_for_another_process_is_not_pinged(tmp_path):
    kiosk = Kiosk(load_settings(site="testgym", machine="lp1", data_dir=tmp_path / "data"))
    composed = [unit for unit in kiosk.units if isinstance(unit, ServiceNotifier)]
    assert len(composed) == 1, "the kiosk composes one service notifier"
    notifier = ServiceNotifier(composed[0].wiring, environ={})
    notifier.start()
    notifier.tick(time.time())
    notifier.stop()
    assert (notifier.pings, notifier.ready_sent, notifier.send_errors) == (0, False, 0)

    assert notify_address("@name") == b"\0name"
    assert notify_address("/run/systemd/notify") == "/run/systemd/notify"
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({}) is None
