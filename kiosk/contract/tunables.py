"""When each setting an operator pushes (`KioskConfig`) takes effect; docs/mqtt.md prints this table.

`live`: the kiosk reads the setting where it uses it, so a push applies to
the very next use. `next session`: it is fixed when a member's session (and
its cue engine) starts, so a member already at the machine keeps the old
value until they log out. A test checks that every field of `KioskConfig`
and `CueThresholds` is here, and pins each one's behaviour.
"""

from typing import Literal

Applies = Literal["live", "next session"]

# (when, what it means at the machine)
WHEN_APPLIED: dict[str, tuple[Applies, str]] = {
    "version": ("live", "reported in `info` and `config/state` at once"),
    "idle_timeout_s": ("live", "the next idle check (every 0.1 s) uses it, for the member at the machine too"),
    "telemetry_interval_s": ("live", "the report after the next one is due this much later"),
    "sound": ("live", "the next warn cue is heard, or not; a stop cue always sounds (a safety floor)"),
    "home_assistant": ("live", "the kiosk's Home Assistant device is published, or removed, at once"),
    "code_max_age": ("live", "the next scan of a code is checked against it"),
    "member_id_pattern": ("live", "the next scan of a plain membership id is checked against it"),
    "scan_repeat_s": ("live", "the next read of a code, from any source, is filtered with it"),
    "languages": ("live", "the language buttons change on the screen's next refresh; the default is read at "
                          "the next line or spoken cue for a member whose profile names no language"),
    "load_unit": ("live", "the screen's next refresh shows loads, and steps the load, in this unit"),
    "target_reps": ("live", "the next session's end suggests the next load with it"),
    "machine_models": ("next session", "sled travel for calibration at once; the member's settings, screen "
                                       "and cues from the next session"),
    **{f"cues.{name}": ("next session", "the cue engine of the next session (or of a member's next settings "
                                        "save) uses it") for name in (
        "descent_fast_s", "shallow_fraction", "depth_reached_tolerance_mm", "lockout_margin_mm", "bounce_mm_s2",
        "hysteresis_mm", "liftoff_margin_mm", "sensor_lost_s", "set_rest_s", "repeat_s",
        "lumbar_liftoffs_to_stop", "velocity_loss_pct")},
}
