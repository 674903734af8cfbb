"""Operator commands on `R/kiosk/cmd/{name}` and their replies on `R/kiosk/res/{name}`."""

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from kiosk.contract.base import CommandModel, ReportModel
from kiosk.contract.events import MAX_SAFE_INT, AssistState
from kiosk.contract.text import PLAIN_TEXT

Transaction = Annotated[str, Field(min_length=1, max_length=64)]


class Command(CommandModel):
    transaction: Transaction


class OutOfOrder(Command):
    """Refuse members until `in_service`; staff codes still open maintenance."""

    reason: Annotated[str, Field(min_length=1, max_length=200), PLAIN_TEXT]


class InService(Command):
    """Back in service after `out_of_order`."""


class ShowMessage(Command):
    """Show `text` over any screen for `seconds`; never over a warn or stop cue, which comes first."""

    text: Annotated[str, Field(min_length=1, max_length=500, description="Plain text on one line: "
                                     "control and formatting characters (newlines included) are refused."), PLAIN_TEXT]
    seconds: Annotated[float, Field(gt=0, le=86_400)] = 30.0


class EndSession(Command):
    """End the member's session now (reason `command`)."""


class Diagnostics(Command):
    """Reply with the full self-test report."""


class Rebirth(Command):
    """Republish status, info and config state."""


class Assist(Command):
    """Staff answer a member's alert: `seen` (on a staff screen; `by` names the screen, e.g. "Front desk") or
    `coming` (`by`, a person's display name, is on the way). The member's screen says so."""

    state: AssistState
    by: Annotated[str, Field(min_length=1, max_length=40, description="Plain text on one line, at most 40 "
                             "characters: the screen or the person, as the member will read it."), PLAIN_TEXT]


class Restart(Command):
    """Leave cleanly so the service manager starts the kiosk again."""


# What a kiosk's journal promises to hold for `replay`: its newest `MAX_HELD` events (about a month of
# a busy machine's). The recorder counts anything older than that below a kiosk's newest eid as lost
# without asking for it.
MAX_HELD = 250_000


class Replay(Command):
    """Publish again, with `replayed: true`, the events this kiosk still holds with `from_eid <= eid <= to_eid`."""

    from_eid: Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]
    to_eid: Annotated[int, Field(ge=1, le=MAX_SAFE_INT)]

    @model_validator(mode="after")
    def _in_order(self) -> "Replay":
        if self.to_eid < self.from_eid:
            raise ValueError("to_eid must not be below from_eid")
        return self


COMMANDS: dict[str, type[Command]] = {
    "out_of_order": OutOfOrder,
    "in_service": InService,
    "message": ShowMessage,
    "end_session": EndSession,
    "diagnostics": Diagnostics,
    "rebirth": Rebirth,
    "restart": Restart,
    "replay": Replay,
    "assist": Assist,
}


class CommandReply(ReportModel):
    """Every command gets exactly one reply, `ok` with data or `error` with a readable reason."""

    transaction: str
    status: Literal["ok", "error"]
    data: dict[str, Any] | None = None
    error: str | None = None
