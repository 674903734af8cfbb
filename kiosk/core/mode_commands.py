"""Unit `mode commands`: owns the handlers of `R/kiosk/cmd/{out_of_order,in_service,message,end_session,
diagnostics,rebirth,restart,assist}` (the operators unit receives them and sends each reply).

What operators do to the kiosk as a whole: take it out of order and back, show a message, end the
session at the machine, run the self-test, have it republish what it says about itself, restart it.
Each handler returns its reply model (`kiosk.contract.replies`).
"""

from collections.abc import Callable

from kiosk.contract.commands import Assist, Command, OutOfOrder, ShowMessage
from kiosk.contract.replies import (
    AssistShown,
    DiagnosticsReport,
    MessageShown,
    ModeReply,
    Republished,
    Restarting,
    SessionEnded,
)
from kiosk.core.command_desk import CommandHandler
from kiosk.core.modes import Modes
from kiosk.core.site.operator_desk import OperatorDesk
from kiosk.core.site.presence import Presence
from kiosk.core.snapshot import OperatorNotice
from kiosk.core.training.pain import PainProtocol
from kiosk.core.training.training import Training
from kiosk.core.unit import Unit, Wiring


class ModeCommands(Unit):
    """The operators' commands that change the kiosk's mode or session, or ask about the whole kiosk."""

    def __init__(self, wiring: Wiring, modes: Modes, training: Training, pain: PainProtocol, presence: Presence,
                 operators: OperatorDesk, self_test: Callable[[], DiagnosticsReport],
                 restarter: Callable[[], Callable[[], None] | None]) -> None:
        """`restarter()`: how to restart this process (set by the app), or None when nothing can."""
        super().__init__(wiring)
        self._modes = modes
        self._training = training
        self._pain = pain
        self._presence = presence
        self._operators = operators
        self._self_test = self_test
        self._restarter = restarter

    def start(self) -> None:
        handlers: dict[str, CommandHandler] = {
            "out_of_order": self._out_of_order,
            "in_service": self._in_service,
            "message": self._message,
            "end_session": self._end_session,
            "diagnostics": lambda _cmd: self._self_test(),
            "rebirth": self._rebirth,
            "restart": self._restart,
            "assist": self._assist,
        }
        for name, handler in handlers.items():
            self.wiring.commands.register(name, handler)

    def _out_of_order(self, cmd: Command) -> ModeReply:
        assert isinstance(cmd, OutOfOrder)
        already = self._modes.mode == "out_of_order"
        self._modes.out_of_order(cmd.reason)
        if already:
            self._presence.publish_status()  # the mode stays; the reason operators read in `watch` changed
        session, engine = self._training.session, self._training.engine
        mid_set = session is not None and engine is not None and engine.set_open
        if session is not None:
            # The member may still be under the weight: their pain button keeps working for a while.
            self._pain.cut_short(session)
            self._training.end("command")
        self.wiring.notify(OperatorNotice(kind="out_of_order", text=cmd.reason))
        return ModeReply(mode=self._modes.mode, ended_session=session.id if session else None, mid_set=mid_set)

    def _assist(self, cmd: Command) -> AssistShown:
        assert isinstance(cmd, Assist)
        return self._pain.assisted(cmd)

    def _in_service(self, _cmd: Command) -> ModeReply:
        self._modes.in_service()
        self.wiring.notify(OperatorNotice(kind="in_service", text=""))
        return ModeReply(mode=self._modes.mode)

    def _message(self, cmd: Command) -> MessageShown:
        assert isinstance(cmd, ShowMessage)
        self.wiring.notify(OperatorNotice(kind="message", text=cmd.text, seconds=cmd.seconds))
        return MessageShown(shown_s=cmd.seconds)

    def _end_session(self, _cmd: Command) -> SessionEnded:
        ended = self._training.session_id()
        self._training.end("command")
        return SessionEnded(ended_session=ended)

    def _rebirth(self, _cmd: Command) -> Republished:
        self._presence.announce()
        self._operators.publish_state()
        return Republished(republished=["status", "info", "config/state"])

    def _restart(self, _cmd: Command) -> Restarting:
        restart = self._restarter()
        if restart is None:
            raise RuntimeError("this kiosk was not started by a supervisor that can restart it")
        # After the reply is on its way: the app stops the core and exits for systemd to restart it.
        self.wiring.inbox.post(restart)
        return Restarting(restarting=True)
