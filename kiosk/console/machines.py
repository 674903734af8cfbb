"""An operator's machine page: out of order and back, a message, end the session, diagnostics, restart.

The same contract commands as `legpress-fleet command`; each shows the kiosk's
reply (or why there was none) on the page, and goes to the audit log.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kiosk.console.alerts import Alert
from kiosk.console.desk import CommandError
from kiosk.console.web import Who, action, console_of, page, render
from kiosk.contract.commands import CommandReply
from kiosk.contract.ids import is_valid_id
from kiosk.contract.replies import DiagnosticsReport, SelfTestChecks

# The commands this page offers, and the form fields each takes.
ACTIONS: dict[str, tuple[str, ...]] = {
    "out_of_order": ("reason",),
    "in_service": (),
    "message": ("text", "seconds"),
    "end_session": (),
    "diagnostics": (),
    "restart": (),
}


def _machine(request: Request) -> str | None:
    machine = request.path_params["machine"]
    return machine if is_valid_id(machine) else None


@page("operator")
async def machine_page(request: Request, me: Who) -> Response:
    machine = _machine(request)
    tile = console_of(request).floor.tile(machine) if machine else None
    if tile is None:
        return render(request, "refused.html", {"missing": request.path_params["machine"]}, 404, me=me)
    return render(request, "machine.html", {"tile": tile}, me=me)


@action("operator")
async def machine_action(request: Request, me: Who) -> Response:
    console = console_of(request)
    machine, name = _machine(request), request.path_params["command"]
    tile = console.floor.tile(machine) if machine else None
    if tile is None or machine is None or name not in ACTIONS:
        return render(request, "refused.html", {"missing": request.url.path}, 404, me=me)
    form = await request.form()
    fields: dict[str, Any] = {k: str(form.get(k, "")) for k in ACTIONS[name]}
    reply: CommandReply | None = None
    try:
        reply = await console.desk.send(machine, name, fields)
        outcome = "ok" if reply.status == "ok" else f"error: {reply.error}"
    except CommandError as exc:
        outcome = f"error: {exc}"
    console.accounts.audit(me.staff.name, name, machine, f"{fields} -> {outcome}" if fields else outcome)
    if outcome != "ok":
        console.floor.raise_alert(Alert("command", machine, detail=f"{name}: {outcome.removeprefix('error: ')}"))
    return render(request, "machine.html", {
        "tile": console.floor.tile(machine), "command": name, "outcome": outcome, "reply": reply,
        "diagnostics": _diagnostics(reply) if name == "diagnostics" else None,
        "checks": SelfTestChecks.model_fields,
    }, status_code=200 if outcome == "ok" else 502, me=me)


def _diagnostics(reply: CommandReply | None) -> DiagnosticsReport | None:
    if reply is None or reply.status != "ok" or reply.data is None:
        return None
    try:
        return DiagnosticsReport.model_validate(reply.data)
    except ValueError:
        return None  # shown as the raw reply instead


ROUTES = [
    Route("/machines/{machine}", machine_page, methods=["GET"]),
    Route("/machines/{machine}/{command}", machine_action, methods=["POST"]),
]
