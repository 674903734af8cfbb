"""Unit `presence`: owns `R/kiosk/status` (retained, Will `lost`), `R/kiosk/info` (retained) and
`R/kiosk/telemetry`, and answers `rebirth` together with the operators' desk.

Operators see a kiosk as online only through this unit: `ready` once the link
is up and every subscription acknowledged, refreshed with each telemetry (its
`heartbeat_s`, so a `ready` nobody refreshes reads as stale), `disconnected`
on a clean stop, `lost` from the broker when the kiosk vanished. The boot counter is read and
written at start, not at construction.
"""

import logging
from typing import Protocol

from kiosk import __version__
from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.config import KioskConfig
from kiosk.contract.kiosk import (
    DefenceCounters,
    JournalHealth,
    KioskInfo,
    KioskMode,
    KioskStatus,
    KioskTelemetry,
    LinkHealth,
    LinkState,
    SensorHealth,
)
from kiosk.core.site.boot import next_boot
from kiosk.core.site.system import cpu_temperature_c, memory_mb
from kiosk.core.unit import Unit, Wiring
from kiosk.mqtt.link import Will

log = logging.getLogger(__name__)


class KioskFacts(Protocol):
    """What presence reports about the rest of the kiosk."""

    @property
    def mode(self) -> KioskMode: ...

    @property
    def config(self) -> KioskConfig: ...

    @property
    def fps(self) -> float | None: ...

    def sensor_health(self, now: float) -> SensorHealth: ...

    def usage_today(self, now: float) -> tuple[int, float | None]: ...

    def journal_health(self) -> JournalHealth | None: ...

    def defences(self) -> DefenceCounters: ...


class Presence(Unit):
    """The kiosk's retained status and info, its Will, and its telemetry every `telemetry_interval_s`."""

    def __init__(self, wiring: Wiring, facts: KioskFacts) -> None:
        super().__init__(wiring)
        self._facts = facts
        self.boot = 0
        self.started = False
        self.started_at = wiring.clock.now()
        self._next_telemetry = 0.0
        self._leaving = False  # said goodbye: no heartbeat may put `ready` back over `disconnected`

    def start(self) -> None:
        self.boot = next_boot(self.wiring.settings.data_dir)
        self.started = True
        self.started_at = self.wiring.clock.now()
        # The broker stores the Will at CONNECT, so it is set before the link starts.
        self.wiring.link.set_will(Will(self.wiring.topics.kiosk_status, self.status("lost").model_dump_json().encode()))
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self.announce))

    def status(self, state: LinkState) -> KioskStatus:
        return KioskStatus(state=state, mode=self._facts.mode, ts=self.wiring.clock.now(), version=__version__,
                           boot=self.boot, heartbeat_s=self._facts.config.telemetry_interval_s)

    def info(self) -> KioskInfo:
        settings = self.wiring.settings
        return KioskInfo(version=__version__, machine_model=settings.machine_model,
                         config_version=self._facts.config.version, contract_version=CONTRACT_VERSION,
                         site=settings.site, machine=settings.machine)

    def announce(self) -> None:
        """Status `ready` (for operators and the screen) and info, retained: after every connect and on rebirth."""
        self.publish_status()
        self.publish_info()

    def publish_status(self) -> None:
        status = self.status("ready")
        self.wiring.link.publish(self.wiring.topics.kiosk_status, status, retain=True)
        self.wiring.notify(status)

    def publish_info(self) -> None:
        if self.wiring.link.connected:  # else the connect hook announces it
            self.wiring.link.publish(self.wiring.topics.kiosk_info, self.info(), retain=True)

    def say_goodbye(self) -> None:
        """A clean stop: `disconnected`, retained, confirmed by the broker before the link goes down."""
        self._leaving = True
        if self.wiring.link.connected:
            self.wiring.link.publish_and_wait(self.wiring.topics.kiosk_status, self.status("disconnected"),
                                              retain=True)

    def telemetry(self, now: float) -> KioskTelemetry:
        link = self.wiring.link
        sessions_today, liftoff_rate = self._facts.usage_today(now)
        return KioskTelemetry(
            ts=now,
            uptime_s=round(now - self.started_at, 1),
            memory_mb=memory_mb(),
            cpu_temp_c=cpu_temperature_c(),
            fps=self._facts.fps,
            sessions_today=sessions_today,
            last_liftoff_rate=liftoff_rate,
            sensor=self._facts.sensor_health(now),
            broker=LinkHealth(connected=link.connected, connects=link.stats.connects,
                              disconnects=link.stats.disconnects, callback_errors=link.stats.callback_errors),
            journal=self._facts.journal_health(),
            defences=self._facts.defences() if self.started else None,
        )

    def tick(self, now: float) -> None:
        if now >= self._next_telemetry and self.wiring.link.connected and not self._leaving:
            self._next_telemetry = now + self._facts.config.telemetry_interval_s
            self.wiring.link.publish(self.wiring.topics.kiosk_telemetry, self.telemetry(now), qos=0)
            # The heartbeat: a retained `ready` is only believed while it is fresh (KioskStatus.stale), because
            # a kiosk whose broker died with it never gets its Will out. Same state, so the screen is not told.
            self.wiring.link.publish(self.wiring.topics.kiosk_status, self.status("ready"), retain=True)
