"""A member's session at the machine: from a valid scan to logout, timeout or command."""

import time
import uuid
from dataclasses import dataclass, field

from kiosk.contract.events import RepDone, Role, SessionEnd, SetEnd
from kiosk.contract.profile import MachineSettings, MaxLowered, MemberProfile
from kiosk.core.snapshot import MemberAtMachine

# How long after an operator's command cut a session short its member can still report pain:
# they may still be under the weight when the kiosk goes out of order.
PAIN_AFTER_CUT_S = 120.0


def local_midnight(now: float) -> float:
    """The start of `now`'s day, local time: where "sessions today" begin counting."""
    day = time.localtime(now)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


@dataclass
class UsageToday:
    """Sessions since local midnight and the last lift-off rate, for telemetry and Home Assistant."""

    day: str = ""
    sessions: int = 0
    last_liftoff_rate: float | None = None

    def session_started(self, now: float) -> None:
        today = time.strftime("%Y-%m-%d", time.localtime(now))
        if today != self.day:
            self.day, self.sessions = today, 0
        self.sessions += 1

    def session_ended(self, reps: int, liftoffs: int) -> None:
        if reps:
            self.last_liftoff_rate = round(100 * liftoffs / reps, 1)

    def resume(self, now: float, sessions_today: int, last: SessionEnd | None) -> None:
        """After a restart: today's sessions and the last rate as the journal has them, not from zero."""
        self.day, self.sessions = time.strftime("%Y-%m-%d", time.localtime(now)), sessions_today
        if last is not None:
            self.session_ended(last.reps, last.liftoffs)

    def sessions_today(self, now: float) -> int:
        return self.sessions if time.strftime("%Y-%m-%d", time.localtime(now)) == self.day else 0


@dataclass(frozen=True)
class SetRecord:
    """One finished set as the member saw it: its `set_end`, the reps and the cues raised during it."""

    end: SetEnd
    reps: tuple[RepDone, ...]
    cues: tuple[str, ...]


@dataclass
class Session:
    """One member at the machine; the screen forgets it when the session ends."""

    member: str
    name: str
    role: Role
    started: float
    settings: MachineSettings
    profile: MemberProfile | None
    first_time: bool
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    last_activity: float = 0.0
    sets: list[SetEnd] = field(default_factory=list)
    settings_changed: bool = False
    erased: bool = False  # an operator erased the member's profile during the session
    pain_pressed: bool = False  # `pain_stop` sent, kind not told yet: another press is the same episode
    max_lowered: MaxLowered | None = None  # why a lift-off lowered the max this session (once a session)
    language: str | None = None  # the member's BCP 47 tag: their profile's, or the one they tapped

    def __post_init__(self) -> None:
        self.last_activity = self.last_activity or self.started
        self.language = self.language or (self.profile.language if self.profile else None)

    def at_machine(self) -> MemberAtMachine:
        return MemberAtMachine(session=self.id, member=self.member, name=self.name, role=self.role,
                               settings=self.settings, first_time=self.first_time,
                               language=self.language)

    @property
    def reps(self) -> int:
        return sum(s.reps for s in self.sets)

    @property
    def liftoffs(self) -> int:
        return sum(s.liftoffs for s in self.sets)

    @property
    def volume_kg(self) -> float | None:
        """Load x reps over the sets pressed with a known load (None when no set had one)."""
        loaded = [s for s in self.sets if s.load_kg is not None]
        return round(sum((s.load_kg or 0.0) * s.reps for s in loaded), 1) if loaded else None

    @property
    def max_depth_mm(self) -> float | None:
        return max((s.max_depth_mm for s in self.sets), default=None)
