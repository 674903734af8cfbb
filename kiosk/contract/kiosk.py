"""What a kiosk publishes about itself: status, info, telemetry."""

from typing import Annotated, Literal

from pydantic import Field

from kiosk.contract.base import ReportModel, Timestamp
from kiosk.contract.ids import Id
from kiosk.contract.text import LABEL_MAX, PLAIN_TEXT

# Printed by `status` and `watch`, kept by the recorder: what a kiosk says it runs is plain text, short.
Label = Annotated[str, Field(max_length=LABEL_MAX), PLAIN_TEXT]

KioskMode = Literal["idle", "session", "out_of_order", "maintenance"]
LinkState = Literal["ready", "disconnected", "lost"]
# A `ready` status not refreshed for this many heartbeats is no longer believed: the kiosk's app died
# without its Will getting out (its broker died with it, then came back alone).
STALE_AFTER_HEARTBEATS = 2.5


class KioskStatus(ReportModel):
    """Retained on `R/kiosk/status`; `lost` comes from the Will, `disconnected` from a clean stop."""

    state: LinkState
    mode: KioskMode = "idle"
    ts: Timestamp
    version: Label
    boot: Annotated[int, Field(ge=0)]
    heartbeat_s: Annotated[float | None, Field(gt=0, le=3600, description=(
        "While `ready`, the kiosk publishes this status again at least this often (its telemetry interval), "
        "with a fresh `ts`; a `ready` older than 2.5 heartbeats is stale: the kiosk is not running."))] = None
    reason: Annotated[Annotated[str, Field(max_length=200), PLAIN_TEXT] | None, Field(description=(
        "While `out_of_order`: the operator's reason, as the members read it on the screen."))] = None

    def stale(self, now: float) -> bool:
        """True for a `ready` the kiosk stopped refreshing: older than 2.5 heartbeats at `now`.

        A status without `heartbeat_s` (an older kiosk) is never judged stale: it is not refreshed.
        """
        if self.state != "ready" or self.heartbeat_s is None:
            return False
        return now - self.ts > STALE_AFTER_HEARTBEATS * self.heartbeat_s


class KioskInfo(ReportModel):
    """Retained on `R/kiosk/info`: what this kiosk is and runs."""

    version: Label
    machine_model: Label
    config_version: Label
    contract_version: Label
    site: Id
    machine: Id


class SensorHealth(ReportModel):
    """How the sensor stream looks to the kiosk; the counts are since the kiosk started."""

    rate_hz: float = 0.0
    last_seen_ts: Timestamp | None = None
    received: int = 0
    invalid: int = 0
    dropped: int = 0
    out_of_range: int = 0
    unknown_fields: int = 0
    ts_refused: int = Field(0, description="Samples and events refused for a timestamp far from the kiosk's "
                            "clock or from the stream's recent past; they never move the sensor clock.")
    restarts: int = Field(0, description="Sensor restarts recognised: a new stream (after a `ready` status, or "
                          "a jump in its clock) believed once several consistent samples came.")
    shed: int = Field(0, description="Depth samples dropped unhandled because more came than the core takes "
                      "(a flood): the newest are kept, and lift-offs always go first.")
    flood_pauses: int = Field(0, description="Times the depth topic came faster than any sensor samples (a "
                              "flood) and the kiosk stopped taking it for a moment, so that lift-offs did not "
                              "wait behind it; what was on its way meanwhile is counted in `shed`.")


class DefenceCounters(ReportModel):
    """What the kiosk refused or bounded of what it was sent, since it started (docs/security.md)."""

    profile_values_clamped: int = Field(0, description="Saved depths brought inside the machine's floors.")
    profiles_rev_refused: int = Field(0, description="Profiles refused for an implausible `rev` jump.")
    profiles_unknown_trimmed: int = Field(0, description="Profiles whose oversized unknown fields were dropped.")
    profiles_too_large: int = Field(0, description="Profiles refused for their size.")
    profiles_evicted: int = Field(0, description="Cached profiles forgotten to keep the member limit.")
    profiles_cached: int = Field(0, description="Members in the local cache now.")
    profiles_dropped: int = Field(0, description="Profiles that arrived faster than the cache could file them "
                                  "(a flood); dropped past a bound, never in the sensor's way.")
    replies_redirected: int = Field(0, description="Requests whose Response Topic was refused; "
                                    "answered on the kiosk's own `res` topic.")
    retained_commands_ignored: int = Field(0, description="Commands sent retained, ignored: a retained request "
                                           "would act again at every reconnect.")
    codes_revoked: int = Field(0, description="Scans refused by the site's revocation list.")
    revocation_entries: int = Field(0, description="Entries in the revocation list in force.")
    revocation_lists_refused: int = Field(0, description="Revocation lists refused as invalid.")
    camera_files_refused: int = Field(0, description="Camera folder entries refused unread "
                                      "(not a regular file, too large, too many pixels).")


class LinkHealth(ReportModel):
    connected: bool
    connects: int = 0
    disconnects: int = 0
    callback_errors: int = 0


class JournalHealth(ReportModel):
    """The kiosk's event journal: what waits for the broker, what it holds for `replay`, what it had to drop."""

    held: int = 0
    undelivered: int = 0
    last_eid: int | None = None
    oldest_eid: int | None = None
    pruned: int = 0
    pruned_undelivered: int = 0
    # `replay` requests answered without sending (a repeat of one just served, or over the replay rate).
    replays_held_back: int = 0
    replays_refused: dict[str, int] = Field(
        default_factory=dict,
        description="`replay` requests held back or cut short, by reason: `repeat` (its first eid was replayed in "
        "the last 10 s), `requester_rate` (over its requester's rate), `kiosk_rate` (over the kiosk's, all "
        "requesters together), `busy` (the link still holds the last replay's copies), `yielded` (cut short "
        "for a lift-off)")
    write_errors: int = 0
    last_error: str | None = None


class KioskTelemetry(ReportModel):
    """Published every 30 s on `R/kiosk/telemetry`."""

    ts: Timestamp
    uptime_s: float
    memory_mb: float | None = None
    cpu_temp_c: float | None = None
    fps: float | None = None
    sessions_today: int | None = Field(default=None, description="sessions started since local midnight")
    last_liftoff_rate: float | None = Field(
        default=None, description="lift-offs per 100 reps in the last session that had reps")
    sensor: SensorHealth
    broker: LinkHealth
    journal: JournalHealth | None = None
    defences: DefenceCounters | None = None


def read_bridge_state(payload: bytes) -> bool | None:
    """mosquitto's bridge notification (`R/kiosk/bridge`): True for `1` (bridged), False for `0` (the site
    lost the kiosk's broker), None for anything else, which no bridge writes."""
    text = payload.strip()
    return {b"1": True, b"0": False}.get(text)
