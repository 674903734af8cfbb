"""Operator commands on `R/kiosk/cmd/{name}` and their replies on `R/kiosk/res/{name}`."""

from typing import Annotated, Any, Literal

from pydantic import Field

from kiosk.contract.base import CommandModel, ReportModel

Transaction = Annotated[str, Field(min_length=1, max_length=64)]


class Command(CommandModel):
    transaction: Transaction


class OutOfOrder(Command):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


class InService(Command):
    pass


class ShowMessage(Command):
    text: Annotated[str, Field(min_length=1, max_length=500)]
    seconds: Annotated[float, Field(gt=0, le=86_400)] = 30.0


class EndSession(Command):
    pass


class Diagnostics(Command):
    pass


class Rebirth(Command):
    pass


class Restart(Command):
    pass


COMMANDS: dict[str, type[Command]] = {
    "out_of_order": OutOfOrder,
    "in_service": InService,
    "message": ShowMessage,
    "end_session": EndSession,
    "diagnostics": Diagnostics,
    "rebirth": Rebirth,
    "restart": Restart,
}


class CommandReply(ReportModel):
    """Every command gets exactly one reply, `ok` with data or `error` with a readable reason."""

    transaction: str
    status: Literal["ok", "error"]
    data: dict[str, Any] | None = None
    error: str | None = None
