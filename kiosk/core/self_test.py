"""The kiosk's self-test: the `diagnostics` command's reply and the maintenance screen's checks."""

from dataclasses import asdict

from kiosk import __version__
from kiosk.codes.member_codes import TrustedKeys
from kiosk.contract.config import KioskConfig
from kiosk.contract.kiosk import KioskMode
from kiosk.contract.replies import (
    CalibrationReport,
    CommandCounts,
    DiagnosticsReport,
    LinkCounts,
    ProfileCounts,
    SelfTestChecks,
)
from kiosk.core.access.scanner import Scanner
from kiosk.core.command_desk import CommandDesk
from kiosk.core.inbox import Inbox
from kiosk.core.profiles.sync import ProfileSync
from kiosk.core.sensor.health import MIN_RATE_HZ
from kiosk.core.sensor.ingest import SensorIngest
from kiosk.core.site.presence import Presence

# The rate is only meaningful while samples keep coming.
RATE_FRESH_S = 2.0


def run_self_test(now: float, mode: KioskMode, config: KioskConfig, presence: Presence, sensor: SensorIngest,
                  profiles: ProfileSync, commands: CommandDesk, inbox: Inbox, keys: TrustedKeys,
                  scanner: Scanner) -> DiagnosticsReport:
    """Check what a kiosk needs to serve members, with the figures behind each check."""
    wiring = presence.wiring
    silent = sensor.monitor.silent_for(now)
    calibration = sensor.calibration
    checks = SelfTestChecks(
        broker=wiring.link.connected,
        sensor_live=silent is not None and silent < config.cues.sensor_lost_s,
        sensor_rate_ok=silent is not None and silent < RATE_FRESH_S and sensor.monitor.rate_hz >= MIN_RATE_HZ,
        trusted_keys=len(keys) > 0,
        camera=wiring.settings.camera == "none" or scanner.running,
        calibrated=calibration.full_raw_mm is not None,
    )
    return DiagnosticsReport(
        ok=all(checks.model_dump().values()),
        checks=checks,
        mode=mode,
        version=__version__,
        config_version=config.version,
        machine_model=wiring.settings.machine_model,
        boot=presence.boot,
        telemetry=presence.telemetry(now),
        camera=scanner.probe(),
        calibration=CalibrationReport.model_validate(calibration.model_dump()),
        pads_lifted=dict(sensor.pads),
        # Held saves counted now, not as of a pass: none left means none can still go out later.
        profiles=ProfileCounts.model_validate(asdict(profiles.book.stats) | {"saves_held": profiles.book.held()}),
        link=LinkCounts.model_validate(asdict(wiring.link.stats)),
        commands=CommandCounts(handled=commands.handled, refused=commands.refused),
        core_errors=inbox.errors,
        core_overflows=inbox.overflows,
        trusted_key_ids=keys.kids(),
    )
