"""The kiosk app: holds what the screen shows as Kivy properties and routes the core's events to screens."""

import time
from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition, ScreenManager
from pydantic import BaseModel

from kiosk.contract.events import (
    Alert,
    AssistTold,
    CueRaised,
    PainReport,
    ProfileSaved,
    RepDone,
    SensorFault,
    SessionEnd,
    SessionStart,
    SetEnd,
)
from kiosk.contract.kiosk import KioskStatus
from kiosk.core.kiosk import Kiosk
from kiosk.core.machine.models import is_pressing
from kiosk.core.snapshot import OperatorNotice, ScanFeedback, SetupProgress
from kiosk.core.training.session import PAIN_AFTER_CUT_S, SetRecord
from kiosk.ui import theme
from kiosk.ui.bridge import CoreBridge
from kiosk.ui.language_choice import speak
from kiosk.ui.overlays import MessageToast, OutOfOrderOverlay, StopOverlay
from kiosk.ui.screens.attract import AttractScreen
from kiosk.ui.screens.checklist import ChecklistScreen
from kiosk.ui.screens.guided import GuidedSetupScreen
from kiosk.ui.screens.maintenance import MaintenanceScreen
from kiosk.ui.screens.member_settings import MemberSettingsScreen
from kiosk.ui.screens.pain import PainScreen
from kiosk.ui.screens.summary import SummaryScreen
from kiosk.ui.screens.workout import WorkoutScreen
from kiosk.ui.wedge import KeyboardWedge
from kiosk.words.wording import cue_text, tr

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
POLL_HZ = 30
# Screens on which a member getting on with a set should be taken to the set screen.
MOVE_TO_SET_FROM = ("settings", "checklist", "summary")
SESSION_END_SHOWN_S = 12.0
# After the screen (or a layer over it) changes, touches that began before it or within this long after
# it are ignored: a second tap meant for the old screen must not land on whatever the new one has there.
TOUCH_GUARD_S = 0.5
TOUCH_REPORT_S = 1.0


class GuardedRoot(FloatLayout):
    """The window's root: a touch that starts inside the guard time after a view change reaches nothing."""

    def on_touch_down(self, touch):
        app = App.get_running_app()
        if app is not None and not app.touch_allowed(touch):
            return True
        return super().on_touch_down(touch)


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
    # A first-timer's guided setup is still to come: the checklist, seen before any rep, leads to it.
    setup_pending = BooleanProperty(False)
    depth_mm = NumericProperty(0.0)
    sensor_ts = NumericProperty(0.0)
    reps = NumericProperty(0)
    last_rep = ObjectProperty(None, allownone=True)
    set_reps = ListProperty([])
    set_cues = ListProperty([])
    sets_done = ListProperty([])
    sensor_stale = BooleanProperty(False)  # a session is on and the sensor has gone quiet
    # The machine model's geometry, read again from the core at each session and at maintenance:
    # an operator's config push can change it while the kiosk runs.
    geometry = ObjectProperty(None)
    language = StringProperty("en")  # the screen's; .kv rules read it as `_(text, app.language)`
    languages = ListProperty(["en"])  # the site's, the first its default

    def __init__(self, kiosk: Kiosk, **kwargs):
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.title = "Leg press"
        self.geometry = kiosk.snapshot.geometry
        self.session_id: str | None = None
        self.member_id: str | None = None
        self.pending_set: SetRecord | None = None  # ended, not yet summarised
        self.last_set: SetRecord | None = None  # the last one summarised
        self.set_records: list[SetRecord] = []  # every set of the session, for its summary
        self.last_cue: tuple[CueRaised, float] | None = None
        self._parting: tuple[ScanFeedback, str] | None = None  # a logging-out member's goodbye, their language
        self._tapped_language: str | None = None  # chosen on the attract screen, for the member who scans next
        self.pain: str | None = None  # this session's pain: None, "" (pressed, kind not told) or the kind
        self._sled_down = False
        self._core_settings = None  # the member's settings as the core last had them
        self._last_touch = 0.0
        self._flips = 0  # frames drawn since the last fps report
        self._flips_since = time.monotonic()
        self.view_changed_at = 0.0  # wall time (a touch's `time_start` clock) of the last view change
        self._session_end_timer = Clock.create_trigger(lambda _dt: self.forget_member(), SESSION_END_SHOWN_S)
        self._drop_out_of_order_pain = Clock.create_trigger(
            lambda _dt: setattr(self.out_of_order, "pain_shown", False), PAIN_AFTER_CUT_S)

    # -- building ------------------------------------------------------------

    def build(self):
        # The typeface from assets/fonts/, with its licence there; not whatever the Kivy install bundles.
        LabelBase.register(DEFAULT_FONT, str(FONTS / "Roboto-Regular.ttf"), fn_bold=str(FONTS / "Roboto-Bold.ttf"))
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
        # The pain screen is the one screen the out-of-order layer must not cover.
        self.manager.bind(current=lambda *_: self._cover_out_of_order())
        # A warning in the banner's place, or a stop over the screen, is never covered by a message.
        banner = self.screen("set").banner
        for widget, prop in ((banner, "severity"), (self.stop_overlay, "shown"), (self.manager, "current")):
            widget.bind(**{prop: lambda *_: self._hold_toast()})
        self.manager.bind(current=self.view_changed)
        self.manager.bind(current=lambda _m, name: setattr(self.toast, "over_banner", name == "set"))
        for layer in (self.stop_overlay, self.out_of_order):
            layer.bind(shown=self.view_changed)
        self.out_of_order.bind(pain_shown=self.view_changed)
        root = GuardedRoot()
        for layer in (self.manager, self.stop_overlay, self.out_of_order, self.toast):
            root.add_widget(layer)
        self.kiosk.observe(CoreBridge(self.on_core, time.perf_counter))
        self.wedge = KeyboardWedge(self.kiosk.scan)
        Window.bind(on_touch_down=self._touched, on_flip=self._flipped)
        self._ticks = [Clock.schedule_interval(self._poll, 1 / POLL_HZ), Clock.schedule_interval(self._report_fps, 1.0)]
        self.mode = self.kiosk.snapshot.mode
        self.languages = list(self.kiosk.config.languages)
        speak(self, None)
        return root

    def choose_language(self, tag: str) -> None:
        """One tap on a language: the screen switches at once; a member's choice is saved to their profile
        (a new rev); on the attract screen it waits for the member who scans next."""
        speak(self, tag)
        if self.manager.current == "maintenance":
            return  # the staff member's choice: theirs while maintenance lasts, never the next member's
        if self.session_id is not None and self._core_settings is not None:
            self.kiosk.save_settings(self._core_settings, language=tag)
        else:
            self._tapped_language = tag

    def open_settings(self, *_args):
        """No Kivy settings panel on a kiosk (F1 would open it)."""
        return False

    def view_changed(self, *_args) -> None:
        """What is under the member's finger just changed: start the touch guard."""
        self.view_changed_at = time.time()

    def touch_allowed(self, touch) -> bool:
        return touch.time_start >= self.view_changed_at + TOUCH_GUARD_S

    @property
    def touch_guard_until(self) -> float:
        return self.view_changed_at + TOUCH_GUARD_S

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
            AssistTold: lambda m: self.screen("pain").assisted(m.state, m.by),
            ProfileSaved: self._on_profile_saved,
            SensorFault: self.screen("maintenance").note_fault,
            OperatorNotice: self._on_notice,
            SetupProgress: self._on_setup,
            Alert: self._on_alert,
        }.get(type(model))
        # The snapshot was taken just before this event: limits the engine changed come with their cue.
        self._follow_core_settings()
        if handler is not None:
            handler(model)

    def _follow_core_settings(self) -> None:
        """Take the member's settings when the core's change (a lumbar lift-off lowers the max depth), so
        the gauge draws the limits the engine applies. Only a change on the core's side is taken: the
        settings screen's own save is already here, and the core's copy catches up with it."""
        member = self.kiosk.snapshot.member
        if member is None or member.session != self.session_id or member.settings is self._core_settings:
            return
        self._core_settings = member.settings
        if member.settings != self.settings:
            self.settings = member.settings

    def _on_status(self, status: KioskStatus) -> None:
        self.mode = status.mode
        if status.mode != "out_of_order":
            self.out_of_order.pain_shown = False
        self._cover_out_of_order()
        if status.mode == "maintenance":
            if self.manager.current != "maintenance":  # a status again must not undo the language staff chose
                self.forget_member()
            self.geometry = self.kiosk.snapshot.geometry
            self.go("maintenance")
        elif self.manager.current == "maintenance":
            # The staff scan that closed maintenance left its welcome on the attract screen; the language
            # staff chose goes with them: the next member starts in the site's default.
            speak(self, None)
            self.screen("attract").reset()
            self.go("attract")

    def _cover_out_of_order(self) -> None:
        self.out_of_order.shown = self.mode == "out_of_order" and self.manager.current != "pain"

    def _hold_toast(self) -> None:
        on_banner = self.manager.current == "set" and self.screen("set").banner.severity in ("warn", "stop")
        self.toast.held = on_banner or self.stop_overlay.shown

    def _on_notice(self, notice: OperatorNotice) -> None:
        if notice.kind == "message":
            # The kiosk's own notices (storage trouble) are message ids: worded, and again after a tap. An
            # operator's free text has no catalogue entry and shows as sent.
            self.toast.show(lambda: tr(notice.text), notice.seconds)

    def _on_profile_saved(self, saved: ProfileSaved) -> None:
        # A save held from an earlier member can go out during this session: not this member's "Saved".
        if self.session_id is not None and saved.session == self.session_id:
            self.screen("settings").saved = True

    def _on_scan(self, feedback: ScanFeedback) -> None:
        self.screen("attract").show_feedback(feedback)
        # The member at the machine scanning again is a logout: its goodbye goes on the attract screen once
        # the member is forgotten. (Told from the screen's own state: the snapshot may already be newer.)
        if feedback.accepted and self.session_id is not None and feedback.member == self.member_id:
            self._parting = (feedback, self.language)
        if not feedback.accepted and self.manager.current != "attract":
            self.show_message(feedback.text, 4.0)

    def _on_session_start(self, start: SessionStart) -> None:
        shown = self.kiosk.snapshot
        session = shown.member
        if session is None or session.session != start.session:
            return
        self._session_end_timer.cancel()
        tapped = self._tapped_language
        self.forget_member()
        self.session_id, self.member_id = session.session, session.member
        # Their profile's language; a member without one who tapped one just before scanning keeps it.
        if session.language is None and tapped is not None:
            self.kiosk.save_settings(session.settings, language=tapped)
        speak(self, session.language or tapped)
        self.geometry = shown.geometry  # before the settings: the screens draw them on it
        self.member_name = session.name  # a member without a name is called one in the screen's language
        self.settings = self._core_settings = session.settings
        self.first_time = self.setup_pending = session.first_time
        self._sled_down = True  # a sled already down at the scan is not someone starting to press
        # A first-timer's first screen is the checklist: the guided setup's reps are reps too (issue 22).
        self.go("checklist" if session.first_time else "settings")

    def after_checklist(self) -> None:
        """Ready (or Skip) on the checklist: the guided setup if it is still to come, else the set."""
        self.go("setup" if self.setup_pending else "set")

    def _on_setup(self, progress: SetupProgress) -> None:
        if progress.session == self.session_id:
            self.screen("setup").progress(progress)

    def _pressing_elsewhere(self, rep: int) -> bool:
        """The member is pressing (`rep`: the rep of the set a rep or cue belongs to) on a screen without the
        set screen's Pain button and cue banner.

        The guided setup's reps stage has its own Pain button and counts those reps; its other stages
        (the defaults, the range just learnt) are not where a set is done. A cue of the rep that finished
        the setup (the top it just learnt, reached) comes after the range is shown: it is no new rep, and
        the member must get to read their range.
        """
        current = self.manager.current
        if current == "setup":
            stage = self.screen("setup").stage
            return stage == "intro" or (stage == "done" and rep > self.reps)
        return current in MOVE_TO_SET_FROM

    def _on_rep(self, rep: RepDone) -> None:
        if rep.session != self.session_id:
            return
        elsewhere = self._pressing_elsewhere(rep.rep)
        self.reps, self.last_rep = rep.rep, rep
        self.set_reps.append(rep)
        if elsewhere and not self.stop_overlay.shown:
            self.go("set")

    def _on_cue(self, cue: CueRaised, received: float) -> None:
        if cue.session != self.session_id:
            return
        self.set_cues.append(cue.cue)
        if self._pressing_elsewhere(cue.rep):
            self.go("set")
        if self.screen("set").banner.offer(cue.cue, cue.severity):
            self.last_cue = (cue, received)
        # The pain screen already tells the member to stop; everywhere else a stop takes the screen.
        if cue.severity == "stop" and self.manager.current != "pain":
            self.stop_overlay.show(cue.cue, cue.severity)
        elif cue.severity == "warn" and self.manager.current == "setup":
            # The guided setup has no cue banner, but a warning must never go unseen: amber, as on the banner,
            # its headline and detail on lines of their own.
            self.show_message(lambda: "\n".join(cue_text(cue.cue, cue.severity)), 4.0, severity="warn")

    def _on_set_end(self, set_end: SetEnd) -> None:
        if set_end.session != self.session_id:
            return
        self.sets_done.append(set_end)
        record = SetRecord(set_end, tuple(self.set_reps), tuple(self.set_cues))
        self.set_records.append(record)
        self.set_reps, self.set_cues, self.reps, self.last_rep = [], [], 0, None
        # A stopped set's advice stays until the member has seen it: reps done under the STOP message
        # make a set of their own, which must not take its place.
        pending = self.pending_set
        if pending is None or not pending.end.stopped or set_end.stopped:
            self.pending_set = record
        # The member reads the summary once they are done with the stop message or the pain screen.
        if not self.stop_overlay.shown and self.manager.current not in ("pain", "setup"):
            self.show_set_summary()

    def _on_session_end(self, end: SessionEnd) -> None:
        if end.session != self.session_id:
            return
        self.stop_overlay.shown = False
        if end.reason == "command":
            # Put out of order mid-session: the member may still be under the weight.
            self.out_of_order.pain_shown = True
            self._drop_out_of_order_pain()
        parting, self._parting = self._parting, None
        if end.reason == "timeout" or not end.reps:
            # Nobody is watching (or nothing to show): forget at once.
            self.forget_member()
            if parting is not None:
                self.screen("attract").show_feedback(*parting)
            return
        last = self.pending_set or self.last_set
        self.screen("summary").show_session(end, last, self.pain, self.set_records)
        self.go("summary")
        self.session_id = None
        self._session_end_timer()

    # -- what the member does ------------------------------------------------------

    def show_set_summary(self) -> None:
        if self.pending_set is None:
            self.go("set" if self.session_id else "attract")
            return
        done = self.pending_set
        self.screen("summary").show_set(done.end, done.reps, done.cues, self.pain if "pain_stop" in done.cues else None)
        self.last_set, self.pending_set = self.pending_set, None
        self.go("summary")

    def open_pain(self) -> None:
        """The Pain button, wherever it is: staff are told at once, before the member says what it is like."""
        self.kiosk.press_pain()
        if self.session_id:
            self.pain = ""
        self.stop_overlay.shown = False  # the pain screen says stop; no summary until it is left
        self.screen("pain").reset()
        self.go("pain")

    def pain_told(self, kind: str) -> None:
        """The member said what the pain is like."""
        if self.session_id:
            self.pain = kind
        self.kiosk.report_pain(kind)

    def after_pain(self) -> None:
        """Leaving the pain screen: the set it stopped, told as a pain stop, even if no set was open."""
        if self.session_id is None:
            self.go("attract")
        elif self.pending_set is not None:
            self.show_set_summary()
        else:
            self.screen("summary").show_set(None, (), (), self.pain)
            self.go("summary")

    def finish(self) -> None:
        """The member is done: the core ends the session and its SessionEnd brings the summary."""
        if self.session_id:
            self.kiosk.end_session("logout")
        else:
            self.forget_member()

    def forget_member(self) -> None:
        """Clear everything about the member from the screen and go back to the start."""
        self._session_end_timer.cancel()
        self.session_id = self.member_id = None
        self._tapped_language = None
        speak(self, None)  # the next member starts in the site's default
        self.member_name = ""
        self.settings = self._core_settings = None
        self.first_time = self.setup_pending = False
        self.pending_set = self.last_set = None
        self.pain = None
        self.set_reps, self.set_cues, self.sets_done = [], [], []
        self.set_records: list[SetRecord] = []
        self.reps, self.last_rep = 0, None
        self.stop_overlay.shown = False
        for name in ("attract", "settings", "checklist", "setup", "set", "pain", "summary"):
            self.screen(name).reset()
        if self.manager.current != "maintenance":
            self.go("attract")

    def _on_alert(self, alert: Alert) -> None:
        """Staff were alerted about a STOP nobody tapped away: the screen keeps asking the member."""
        if alert.session is None or alert.session != self.session_id or alert.reason != "stop_unacknowledged":
            return
        self.stop_overlay.keep_asking(alert.cue or "")

    def _after_stop(self) -> None:
        self.kiosk.acknowledge_stop()
        if self.pending_set is not None:
            self.show_set_summary()

    def show_message(self, text: str | Callable[[], str], seconds: float = 5.0, severity: str = "info") -> None:
        """Show a message over any screen for `seconds`; safe to call from any thread."""
        Clock.schedule_once(lambda _dt: self.toast.show(text, seconds, severity), 0)

    # -- polling and touches -------------------------------------------------------

    def _poll(self, _dt: float) -> None:
        shown = self.kiosk.snapshot
        if shown.sled.mm is not None:
            self.depth_mm = shown.sled.mm
            self.sensor_ts = shown.sled.sensor_ts or 0.0
        self.connected = shown.broker_connected
        if self.kiosk.config.languages != self.languages:  # a config push changed them
            self.languages = list(self.kiosk.config.languages)
        self._follow_core_settings()
        self._watch_sensor(shown.sled.silent_s, shown.sensor_lost_s)
        self._watch_sled()
        poll = getattr(self.manager.current_screen, "poll", None)
        if poll is not None:
            poll()

    def _watch_sensor(self, silent: float | None, lost_after_s: float) -> None:
        """While a session is on and the sensor is quiet, the banner says so and stays (the engine says it once)."""
        stale = self.session_id is not None and silent is not None and silent > lost_after_s
        if stale == self.sensor_stale:
            return
        self.sensor_stale = stale
        banner = self.screen("set").banner
        if stale:
            banner.pin("sensor_lost")
        else:
            banner.unpin()

    def _watch_sled(self) -> None:
        """The sled going down past the top position means someone is pressing: show the set screen and its
        Pain button, from wherever the member was. Only on the way down, so a summary shown while the
        sled is still low stays up until the next descent."""
        down = self.settings is not None and is_pressing(self.depth_mm, self.settings)
        went_down, self._sled_down = down and not self._sled_down, down
        if not went_down or self.session_id is None or self.stop_overlay.shown:
            return
        if self._pressing_elsewhere(self.reps + 1):  # a new rep begins
            self.go("set")

    def _flipped(self, _window) -> None:
        self._flips += 1

    def _report_fps(self, _dt: float) -> None:
        """The real display rate: frames drawn and shown a second. Kivy's `get_fps` counts turns of its
        loop, drawn or not (thousands a second when nothing changes), which is no measure of the screen."""
        now = time.monotonic()
        elapsed, self._flips_since = now - self._flips_since, now
        flips, self._flips = self._flips, 0
        if elapsed > 0:
            self.kiosk.report_fps(round(flips / elapsed, 1))

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
