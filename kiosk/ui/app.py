"""The kiosk app: holds what the screen shows as Kivy properties and routes the core's events to screens."""

import time

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager
from pydantic import BaseModel

from kiosk.contract.events import CueRaised, PainReport, ProfileSaved, RepDone, SensorFault, SessionEnd
from kiosk.contract.events import SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.core.kiosk import Kiosk
from kiosk.core.session import ScanFeedback
from kiosk.ui import theme
from kiosk.ui.bridge import CoreBridge
from kiosk.ui.overlays import MessageToast, OutOfOrderOverlay, StopOverlay
from kiosk.ui.screens.attract import AttractScreen
from kiosk.ui.screens.checklist import ChecklistScreen
from kiosk.ui.screens.guided import GuidedSetupScreen
from kiosk.ui.screens.maintenance import MaintenanceScreen
from kiosk.ui.screens.member_settings import MemberSettingsScreen
from kiosk.ui.screens.pain import PainScreen
from kiosk.ui.screens.summary import SummaryScreen
from kiosk.ui.screens.workout import WorkoutScreen
from kiosk.ui.sound import CueSound
from kiosk.ui.wedge import KeyboardWedge
from kiosk.core.wording import cue_text

POLL_HZ = 30
# Screens on which a member getting on with a set should be taken to the set screen.
MOVE_TO_SET_FROM = ("settings", "checklist", "summary")
SESSION_END_SHOWN_S = 12.0
TOUCH_REPORT_S = 1.0


class KioskApp(App):
    """The touch screen beside one leg press.

    State lives here as Kivy properties (screens bind to them); the core's
    events arrive on the Kivy thread through `CoreBridge` and go to
    `on_core`; live readings are polled from the core at `POLL_HZ`.
    """

    unit = NumericProperty(1.0)
    mode = StringProperty("idle")
    connected = BooleanProperty(False)
    member_name = StringProperty("")
    settings = ObjectProperty(None, allownone=True)
    first_time = BooleanProperty(False)
    depth_mm = NumericProperty(0.0)
    sensor_ts = NumericProperty(0.0)
    reps = NumericProperty(0)
    last_rep = ObjectProperty(None, allownone=True)
    set_reps = ListProperty([])
    set_cues = ListProperty([])
    sets_done = ListProperty([])

    def __init__(self, kiosk: Kiosk, **kwargs):
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.title = "Leg press"
        self.geometry = kiosk.geometry
        self.session_id: str | None = None
        self.pending_set: tuple[SetEnd, list, list] | None = None  # ended, not yet summarised
        self.last_set: tuple[SetEnd, list, list] | None = None  # the last one summarised
        self.last_cue: tuple[CueRaised, float] | None = None
        self._last_touch = 0.0
        self._session_end_timer = Clock.create_trigger(lambda _dt: self.forget_member(), SESSION_END_SHOWN_S)

    # -- building ------------------------------------------------------------

    def build(self):
        Window.clearcolor = theme.BACKGROUND
        self.unit = theme.unit_for(*Window.size)
        Window.bind(size=lambda _w, size: setattr(self, "unit", theme.unit_for(*size)))
        self.manager = ScreenManager(transition=FadeTransition(duration=0.12))
        for screen in (AttractScreen(name="attract"), MemberSettingsScreen(name="settings"),
                       ChecklistScreen(name="checklist"), GuidedSetupScreen(name="setup"),
                       WorkoutScreen(name="set"), PainScreen(name="pain"), SummaryScreen(name="summary"),
                       MaintenanceScreen(name="maintenance")):
            self.manager.add_widget(screen)
        self.stop_overlay = StopOverlay()
        self.stop_overlay.bind(on_dismiss=lambda *_: self._after_stop())
        self.out_of_order = OutOfOrderOverlay()
        self.toast = MessageToast()
        root = FloatLayout()
        for layer in (self.manager, self.stop_overlay, self.out_of_order, self.toast):
            root.add_widget(layer)
        self.sound = CueSound(self.kiosk.settings.data_dir / "sounds", self.kiosk.settings.tuning.sound)
        self.kiosk.observe(CoreBridge(self.on_core, time.perf_counter))
        self.wedge = KeyboardWedge(self.kiosk.scan)
        Window.bind(on_touch_down=self._touched)
        self._ticks = [Clock.schedule_interval(self._poll, 1 / POLL_HZ), Clock.schedule_interval(self._report_fps, 1.0)]
        self.mode = self.kiosk.mode
        return root

    def open_settings(self, *_args):
        """No Kivy settings panel on a kiosk (F1 would open it)."""
        return False

    def screen(self, name: str):
        return self.manager.get_screen(name)

    def go(self, name: str) -> None:
        if self.manager.current != name:
            self.manager.current = name

    # -- what the core says (Kivy thread) ----------------------------------------

    def on_core(self, model: BaseModel, received: float) -> None:
        """Route one core event, status or scan feedback to the screens."""
        handler = {
            KioskStatus: self._on_status,
            ScanFeedback: self._on_scan,
            SessionStart: self._on_session_start,
            RepDone: self._on_rep,
            CueRaised: lambda m: self._on_cue(m, received),
            SetEnd: self._on_set_end,
            SessionEnd: self._on_session_end,
            PainReport: lambda m: self.screen("pain").reported(m.kind),
            ProfileSaved: lambda _m: setattr(self.screen("settings"), "saved", True),
            SensorFault: self.screen("maintenance").note_fault,
        }.get(type(model))
        if handler is not None:
            handler(model)

    def _on_status(self, status: KioskStatus) -> None:
        self.mode = status.mode
        self.out_of_order.shown = status.mode == "out_of_order"
        if status.mode == "maintenance":
            self.forget_member()
            self.go("maintenance")
        elif self.manager.current == "maintenance":
            self.go("attract")

    def _on_scan(self, feedback: ScanFeedback) -> None:
        self.screen("attract").show_feedback(feedback)
        if not feedback.accepted and self.manager.current != "attract":
            self.show_message(feedback.message, 4.0)

    def _on_session_start(self, start: SessionStart) -> None:
        session = self.kiosk.session
        if session is None or session.id != start.session:
            return
        self._session_end_timer.cancel()
        self.forget_member()
        self.session_id = session.id
        self.member_name = session.name or "Member"
        self.settings = session.settings
        self.first_time = session.first_time
        self.go("setup" if session.first_time else "settings")

    def _on_rep(self, rep: RepDone) -> None:
        if rep.session != self.session_id:
            return
        self.reps, self.last_rep = rep.rep, rep
        self.set_reps.append(rep)
        if self.manager.current in MOVE_TO_SET_FROM and not self.stop_overlay.shown:
            self.go("set")

    def _on_cue(self, cue: CueRaised, received: float) -> None:
        if cue.session != self.session_id:
            return
        self.set_cues.append(cue.cue)
        if self.manager.current in MOVE_TO_SET_FROM:
            self.go("set")
        if self.screen("set").banner.offer(cue.cue, cue.severity):
            self.last_cue = (cue, received)
            self.sound.play(cue.severity)
        # The pain screen already tells the member to stop; everywhere else a stop takes the screen.
        if cue.severity == "stop" and self.manager.current != "pain":
            self.stop_overlay.show(*cue_text(cue.cue, cue.severity))
        elif cue.severity == "warn" and self.manager.current == "setup":
            # The guided setup has no cue banner, but a warning must never go unseen.
            self.show_message(" ".join(cue_text(cue.cue, cue.severity)), 4.0)

    def _on_set_end(self, set_end: SetEnd) -> None:
        if set_end.session != self.session_id:
            return
        self.sets_done.append(set_end)
        self.pending_set = (set_end, list(self.set_reps), list(self.set_cues))
        self.set_reps, self.set_cues, self.reps, self.last_rep = [], [], 0, None
        # The member reads the summary once they are done with the stop message or the pain screen.
        if not self.stop_overlay.shown and self.manager.current not in ("pain", "setup"):
            self.show_set_summary()

    def _on_session_end(self, end: SessionEnd) -> None:
        if end.session != self.session_id:
            return
        self.stop_overlay.shown = False
        if end.reason == "timeout" or not end.reps:
            # Nobody is watching (or nothing to show): forget at once.
            self.forget_member()
            return
        last = self.pending_set or self.last_set
        self.screen("summary").show_session(end, last)
        self.go("summary")
        self.session_id = None
        self._session_end_timer()

    # -- what the member does ------------------------------------------------------

    def show_set_summary(self) -> None:
        if self.pending_set is None:
            self.go("set" if self.session_id else "attract")
            return
        self.screen("summary").show_set(*self.pending_set)
        self.last_set, self.pending_set = self.pending_set, None
        self.go("summary")

    def open_pain(self) -> None:
        self.screen("pain").reset()
        self.go("pain")

    def finish(self) -> None:
        """The member is done: the core ends the session and its SessionEnd brings the summary."""
        if self.session_id:
            self.kiosk.end_session("logout")
        else:
            self.forget_member()

    def forget_member(self) -> None:
        """Clear everything about the member from the screen and go back to the start."""
        self._session_end_timer.cancel()
        self.session_id = None
        self.member_name = ""
        self.settings = None
        self.first_time = False
        self.pending_set = self.last_set = None
        self.set_reps, self.set_cues, self.sets_done = [], [], []
        self.reps, self.last_rep = 0, None
        self.stop_overlay.shown = False
        for name in ("attract", "settings", "checklist", "setup", "set", "pain", "summary"):
            self.screen(name).reset()
        if self.manager.current != "maintenance":
            self.go("attract")

    def _after_stop(self) -> None:
        if self.pending_set is not None:
            self.show_set_summary()

    def show_message(self, text: str, seconds: float = 5.0) -> None:
        """Show a message over any screen for `seconds`; safe to call from any thread."""
        Clock.schedule_once(lambda _dt: self.toast.show(text, seconds), 0)

    # -- polling and touches -------------------------------------------------------

    def _poll(self, _dt: float) -> None:
        sensor = self.kiosk.sensor
        if sensor.last_mm is not None:
            self.depth_mm = sensor.last_mm
            self.sensor_ts = sensor.last_ts or 0.0
        self.connected = self.kiosk.link.connected
        poll = getattr(self.manager.current_screen, "poll", None)
        if poll is not None:
            poll()

    def _report_fps(self, _dt: float) -> None:
        self.kiosk.fps = round(Clock.get_fps(), 1)

    def _touched(self, _window, _touch) -> bool:
        now = time.monotonic()
        # One keep-alive a second is plenty; a drag would otherwise flood the core's queue.
        if now - self._last_touch >= TOUCH_REPORT_S:
            self._last_touch = now
            self.kiosk.touch()
        return False

    def on_stop(self) -> None:
        for tick in self._ticks:
            tick.cancel()
        self._session_end_timer.cancel()
        self.wedge.close()
