"""The touch screen's buttons, typed: what a member or technician can do on the screen, headless can.

A line on the headless kiosk's stdin is a code read (as a keyboard-wedge
scanner types it), unless it starts with `/`: then it is one of the screen's
buttons. Member codes never start with `/` (`LP1.`...), so the two never mix.
Every typed line is hostile like any input: a wrong one gets one line saying
why, and nothing reaches the core.
"""

import shlex
from collections.abc import Callable
from typing import Protocol, get_args

from pydantic import TypeAdapter, ValidationError

from kiosk.contract.events import PainKind, SessionEndReason
from kiosk.contract.language_tag import LanguageTag
from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.member_limits import MEMBER_FIELDS, out_of_reach
from kiosk.core.snapshot import KioskSnapshot
from kiosk.core.training.guided_setup import SetupAction
from kiosk.words.language import available, gettext_id

PAIN_KINDS: tuple[PainKind, ...] = get_args(PainKind)
LANGUAGE_TAG: TypeAdapter[str] = TypeAdapter(LanguageTag)
SETUP_ACTIONS: tuple[SetupAction, ...] = get_args(SetupAction)

HELP = "\n".join((
    "typed commands (any other line is a code read):",
    f"  /pain [{'|'.join(PAIN_KINDS)}]  the Pain button; with a kind, what it feels like too",
    "  /finish                 the Finish button: the member's session ends",
    f"  /setup {'|'.join(SETUP_ACTIONS)}    the guided setup's buttons",
    f"  /settings FIELD=VALUE ...  save the member's settings ({', '.join(MEMBER_FIELDS)})",
    "  /language TAG           the member's language button (de, es, ...): saved to their profile",
    "  /touch                  a touch on the screen (keeps the session alive)",
    "  /done                   the maintenance screen's Done button",
    "  /help                   this list",
))


class ScreenInputs(Protocol):
    """The core's thread-safe inputs the screen calls (`Kiosk` has them all)."""

    @property
    def snapshot(self) -> KioskSnapshot: ...
    def scan(self, text: str) -> bool: ...
    def touch(self) -> None: ...
    def press_pain(self) -> None: ...
    def report_pain(self, kind: PainKind) -> None: ...
    def end_session(self, reason: SessionEndReason = "logout") -> None: ...
    def guided_setup(self, action: SetupAction) -> None: ...
    def save_settings(self, settings: MachineSettings, language: str | None = None) -> None: ...
    def leave_maintenance(self) -> None: ...


class HeadlessInput:
    """Turns one typed line into the screen input it stands for; answers in one line for the terminal."""

    def __init__(self, kiosk: ScreenInputs):
        self._kiosk = kiosk
        self._commands: dict[str, Callable[[list[str]], str]] = {
            "pain": self._pain, "finish": self._finish, "setup": self._setup, "settings": self._settings,
            "language": self._language,
            "touch": self._touch, "done": self._done, "help": lambda _: HELP,
        }

    def line(self, text: str) -> str | None:
        """Handle one line; what to tell whoever typed it (None for a code read: the scan speaks for itself)."""
        text = text.strip()
        if not text.startswith("/"):
            self._kiosk.scan(text)
            return None
        try:
            name, *args = shlex.split(text[1:])
        except ValueError as exc:
            return f"refused: {exc}"
        command = self._commands.get(name.lower()) if name else None
        if command is None:
            return f"refused: no command {text.split()[0]!r}; /help lists them"
        return command(args)

    def _pain(self, args: list[str]) -> str:
        if len(args) > 1 or (args and args[0] not in PAIN_KINDS):
            return f"refused: /pain takes one of {', '.join(PAIN_KINDS)}, or nothing"
        # Not refused without a member: like the screen's button, it still reaches a member an operator
        # just cut short (the core decides whose pain it is).
        self._kiosk.press_pain()
        if not args:
            return "pain pressed; /pain KIND says what it feels like"
        kind = next(k for k in PAIN_KINDS if k == args[0])
        self._kiosk.report_pain(kind)
        return f"pain pressed: {kind}"

    def _finish(self, args: list[str]) -> str:
        if args:
            return "refused: /finish takes nothing"
        if self._kiosk.snapshot.member is None:
            return "refused: no member at the machine"
        self._kiosk.end_session("logout")
        return "finish pressed"

    def _setup(self, args: list[str]) -> str:
        if len(args) != 1 or args[0] not in SETUP_ACTIONS:
            return f"refused: /setup takes {' or '.join(SETUP_ACTIONS)}"
        if self._kiosk.snapshot.setup is None:
            return "refused: no guided setup is running"
        action = next(a for a in SETUP_ACTIONS if a == args[0])
        self._kiosk.guided_setup(action)
        return f"guided setup: {action} pressed"

    def _settings(self, args: list[str]) -> str:
        snapshot = self._kiosk.snapshot
        if snapshot.member is None:
            return "refused: no member at the machine"
        changes: dict[str, str] = {}
        for arg in args:
            field, sep, value = arg.partition("=")
            if not sep or field not in MEMBER_FIELDS:
                return f"refused: {arg!r}: give FIELD=VALUE, FIELD one of {', '.join(MEMBER_FIELDS)}"
            changes[field] = value
        if not changes:
            return "refused: /settings needs at least one FIELD=VALUE"
        try:
            settings = MachineSettings.model_validate({**snapshot.member.settings.model_dump(), **changes})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            return f"refused: {where}: {first['msg']}"
        why = out_of_reach(settings, snapshot.geometry, set(changes))
        if why:
            return f"refused: {why}"
        self._kiosk.save_settings(settings)
        return "settings saved: " + ", ".join(f"{k}={_shown(getattr(settings, k))}" for k in changes)

    def _language(self, args: list[str]) -> str:
        member = self._kiosk.snapshot.member
        if member is None:
            return "refused: no member at the machine"
        try:
            tag = LANGUAGE_TAG.validate_python(args[0] if len(args) == 1 else "")
        except ValidationError:
            tag = ""
        if not tag or gettext_id(tag) is None:
            return f"refused: /language takes one of {', '.join(available())}"
        self._kiosk.save_settings(member.settings, language=tag)
        return f"language saved: {tag}"

    def _touch(self, args: list[str]) -> str:
        self._kiosk.touch()
        return "touched"

    def _done(self, args: list[str]) -> str:
        if self._kiosk.snapshot.mode != "maintenance":
            return "refused: /done is the maintenance screen's button; the kiosk is not in maintenance"
        self._kiosk.leave_maintenance()
        return "done pressed"


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
