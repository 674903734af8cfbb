"""The kiosk core: status, sessions and cues over MQTT, without any screen.

The Kivy UI and the headless text presenter both observe this one class;
`--headless` is this core with a text presenter, not a second program.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from kiosk import __version__
from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.kiosk import KioskInfo, KioskMode, KioskStatus
from kiosk.contract.topics import MachineTopics
from kiosk.core.boot import next_boot
from kiosk.core.inbox import Inbox
from kiosk.core.link import MqttLink, Will
from kiosk.core.settings import KioskSettings

log = logging.getLogger(__name__)

Observer = Callable[[BaseModel], None]


@dataclass
class Clock:
    """Wall-clock time source, injectable so tests can move time."""

    now: Callable[[], float] = time.time


class Kiosk:
    """One kiosk beside one leg press: its MQTT presence, mode and member sessions."""

    def __init__(self, settings: KioskSettings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.topics = MachineTopics(settings.site, settings.machine)
        self.boot = next_boot(settings.data_dir)
        self.mode: KioskMode = "idle"
        self.started_at = self.clock.now()
        self._observers: list[Observer] = []
        self.inbox = Inbox(on_tick=self._on_tick)
        self.link = MqttLink(
            client_id=f"kiosk-{settings.site}-{settings.machine}",
            broker=settings.broker_url,
            will=Will(self.topics.kiosk_status, self._status("lost").model_dump_json().encode()),
        )
        self.link.on_connect(lambda: self.inbox.post(self._announce))

    def observe(self, observer: Observer) -> None:
        """Call `observer` (on the core thread) with every event and status the kiosk publishes."""
        self._observers.append(observer)

    def start(self) -> None:
        self.inbox.start()
        self.link.start()

    def stop(self) -> None:
        """Say goodbye (`disconnected`, retained) and leave; the broker then drops the Will."""
        if self.link.connected:
            self.link.publish_and_wait(self.topics.kiosk_status, self._status("disconnected"), retain=True)
        self.link.stop()
        self.inbox.stop()

    def scan(self, text: str) -> None:
        """A code from the camera, a keyboard-wedge scanner or typed by staff."""
        self.inbox.post(lambda: self._handle_scan(text))

    def _handle_scan(self, text: str) -> None:
        log.info("scan received (%d characters)", len(text))

    def _status(self, state: str) -> KioskStatus:
        return KioskStatus(state=state, mode=self.mode, ts=self.clock.now(), version=__version__, boot=self.boot)

    def info(self) -> KioskInfo:
        return KioskInfo(
            version=__version__,
            machine_model=self.settings.machine_model,
            config_version=self.settings.tuning.version,
            contract_version=CONTRACT_VERSION,
            site=self.settings.site,
            machine=self.settings.machine,
        )

    def _announce(self) -> None:
        self._publish_status()
        self.link.publish(self.topics.kiosk_info, self.info(), retain=True)

    def _publish_status(self) -> None:
        status = self._status("ready")
        self.link.publish(self.topics.kiosk_status, status, retain=True)
        self._notify(status)

    def set_mode(self, mode: KioskMode) -> None:
        if mode != self.mode:
            self.mode = mode
            self._publish_status()

    def _notify(self, model: BaseModel) -> None:
        for observer in self._observers:
            try:
                observer(model)
            except Exception:  # noqa: BLE001 - a faulty screen must not stop the core
                log.exception("observer failed on %s", type(model).__name__)

    def _on_tick(self, now: float) -> None:
        pass
