"""A `diagnostics` reply as an operator reads it: the verdict first, then one line per check, then the facts.

`lp2: not ok: not calibrated` says in one line what is wrong; the raw report
(about a hundred lines of JSON) is for scripts, with `command --json`.
"""

from kiosk.contract.replies import DiagnosticsReport, SelfTestChecks

# What a failed check means, in a few words (the field descriptions say what each one tests).
FAILED = {
    "broker": "broker link down",
    "sensor_live": "no sensor data",
    "sensor_rate_ok": "sensor rate low",
    "trusted_keys": "no trusted keys",
    "camera": "camera not running",
    "calibrated": "not calibrated",
}


def failures(checks: SelfTestChecks) -> list[str]:
    """The failed checks, in the report's order, in words."""
    return [FAILED.get(name, name) for name, passed in checks.model_dump().items() if not passed]


def summary(machine: str, report: DiagnosticsReport) -> list[str]:
    """The verdict line, one line per check, and the facts an operator asks next."""
    failed = failures(report.checks)
    verdict = "ok" if report.ok and not failed else "not ok: " + (", ".join(failed) or "see --json")
    width = max(len(name) for name in SelfTestChecks.model_fields)
    lines = [f"{machine}: {verdict}"]
    for name, passed in report.checks.model_dump().items():
        about = SelfTestChecks.model_fields[name].description or ""
        lines.append(f"  {name.ljust(width)}  {'ok    ' if passed else 'FAILED'}  {about}")
    sensor = report.telemetry.sensor
    lines += [
        f"  mode {report.mode}, version {report.version}, config {report.config_version}, "
        f"model {report.machine_model}, boot {report.boot}",
        f"  sensor {sensor.rate_hz:g} Hz, {sensor.invalid} invalid, {sensor.dropped} dropped; "
        f"camera: {report.camera}",
        f"  core errors {report.core_errors}, overflows {report.core_overflows}; "
        f"trusted keys: {', '.join(report.trusted_key_ids) or 'none'}",
    ]
    return lines
