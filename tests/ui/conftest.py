"""One real kiosk window for all UI tests: Kivy opens one window per process, so the app is shared.

The app runs on a real mosquitto with a real Kiosk core, a sensor node
publishing real MQTT messages, and codes signed with a real key. Each test
starts from the attract screen with no member, and leaves it that way.
"""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kiosk.dev.broker import Broker, Collector
from kiosk.ui.main import use_headless_kivy_env
from tests.support.kiosk_harness import Keyring, KioskUnderTest, Screen, make_kiosk
from tests.ui.sensor_node import SensorNode

if TYPE_CHECKING:  # imported for real only once Kivy is configured, in the `ui` fixture
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import AppDriver

# Before any test module imports Kivy. SDL's dummy audio still loads and "plays" the cue sounds.
use_headless_kivy_env()


@dataclass
class Ui:
    """Everything a UI test drives: the app and its driver, the core, the sensor node, the signing key."""

    app: "KioskApp"
    driver: "AppDriver"
    kiosk: KioskUnderTest
    screen: Screen
    node: SensorNode
    keyring: Keyring
    broker: Broker

    def scan(self, code: str) -> None:
        """A keyboard-wedge scanner types the code and presses Enter."""
        self.driver.type_text(code)

    def current(self) -> str:
        return str(self.app.manager.current)


@pytest.fixture(scope="session")
def ui() -> Iterator[Ui]:
    if not os.environ.get("DISPLAY"):
        pytest.skip("UI tests need a display: run them under xvfb-run (deploy/test.sh does)")
    from kiosk.ui.main import WindowPlan, configure_kivy

    configure_kivy(WindowPlan(False, (800, 480)))
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import AppDriver

    root = Path(tempfile.mkdtemp(prefix="legpress-ui-"))
    broker = Broker().start()
    keyring = Keyring(root)
    kiosk, screen = make_kiosk(broker.url, root / "data", keyring, tuning={"idle_timeout_s": 600})
    app = KioskApp(kiosk)
    driver = AppDriver(app).start()
    driver.set_size(800, 480)
    kiosk.start()
    node = SensorNode(broker, kiosk.topics)
    driver.until(lambda: kiosk.link.connected and kiosk.snapshot.sled.mm is not None, what="broker and sensor")
    yield Ui(app, driver, kiosk, screen, node, keyring, broker)
    node.close()
    driver.stop()
    kiosk.stop()
    broker.close()


@pytest.fixture
def fresh(ui: Ui) -> Iterator[Ui]:
    """The kiosk idle on the attract screen, before and after the test."""
    _settle(ui)
    yield ui
    _settle(ui)


@pytest.fixture
def events(ui: Ui) -> Iterator[Collector]:
    """What the kiosk tells staff: its events as they arrive on the broker (`.messages`, `.wait_for`)."""
    collector = Collector(ui.broker, ui.kiosk.topics.kiosk_event)
    yield collector
    collector.close()


def _settle(ui: Ui) -> None:
    ui.node.resume()
    ui.node.hold(40.0)
    if ui.kiosk.session is not None:
        ui.kiosk.end_session("logout")
        ui.driver.until(lambda: ui.kiosk.session is None, what="session closed")
    ui.app.forget_member()
    ui.app.toast.hide()
    ui.driver.until(lambda: ui.current() == "attract" and ui.app.mode == "idle", what="attract screen")
