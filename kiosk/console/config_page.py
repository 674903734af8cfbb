"""An operator's config page: the site's and each machine's config as a form from the pydantic models, each
kiosk's `config/state` (what it applies, or why it refused the last push) beside it.

A push goes the way `legpress-fleet config push` goes (kiosk/fleet/config.py:
`checked_layer` and `apply`): merged into the layer the broker retains, checked
as a whole `KioskConfig` over the defaults with its safety floors, and against
each kiosk's own machine (the travel band), before anything is sent; then the
online kiosks' verdicts are shown. Nothing the kiosks would refuse is sent.
"""

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kiosk.console.config_form import FIELDS, applied_value, patch_from_form, unset_from_form
from kiosk.console.web import Console, Who, action, console_of, page, render
from kiosk.contract.config import ConfigState
from kiosk.contract.ids import is_valid_id
from kiosk.fleet import CommandFailed
from kiosk.fleet.config import Rollout, apply, checked_layer
from kiosk.fleet.view import BadPayload, FleetView

PUSH_TIMEOUT_S = 8.0
# How long the page waits for the console's own view to hear the states the push's verdicts came in.
VIEW_CATCH_UP_S = 3.0


def _machines(console: Console, scope: str | None) -> list[str]:
    known = [t.machine for t in console.floor.tiles()]
    return [scope] if scope is not None else known


def _states(console: Console, machines: list[str]) -> list[dict[str, Any]]:
    """Each kiosk's config state as the page shows it."""
    shown = []
    for machine in machines:
        state = console.floor.view.value(machine, "config")
        if isinstance(state, ConfigState):
            summary = f"{state.status}, config version {state.version}"
            shown.append({"machine": machine, "summary": summary, "error": state.error or "",
                          "config": state.config})
        elif isinstance(state, BadPayload):
            shown.append({"machine": machine, "summary": f"unreadable config state: {state.reason}", "error": "",
                          "config": {}})
        else:
            shown.append({"machine": machine, "summary": "no config state on the broker yet", "error": "",
                          "config": {}})
    return shown


def _scope(request: Request) -> str | None:
    machine = request.query_params.get("machine") or request.path_params.get("machine") or ""
    return machine if is_valid_id(machine) else None


def _page(request: Request, me: Who, scope: str | None, **extra: Any) -> Response:
    console = console_of(request)
    states = _states(console, _machines(console, scope))
    context = {"fields": FIELDS, "scope": scope, "machines": [t.machine for t in console.floor.tiles()],
               "states": states, "applied": applied_value, "filled": {}, "ticked": [], **extra}
    return render(request, "config.html", context, status_code=400 if extra.get("problem") else 200, me=me)


@page("operator")
async def config_page(request: Request, me: Who) -> Response:
    return _page(request, me, _scope(request))


def _verdicts(rollout: Rollout) -> list[str]:
    lines = []
    for machine, verdict in rollout.verdicts.items():
        if verdict is None:
            lines.append(f"{machine}: no answer within {PUSH_TIMEOUT_S:g} s")
        elif isinstance(verdict, BadPayload):
            lines.append(f"{machine}: unreadable config state: {verdict.reason}")
        elif verdict.status == "error":
            lines.append(f"{machine}: refused: {verdict.error}")
        else:
            lines.append(f"{machine}: applied, config version {verdict.version}")
    lines += [f"{m}: not online ({state}); it takes the config when it connects"
              for m, state in rollout.offline.items()]
    return lines


@action("operator")
async def push(request: Request, me: Who) -> Response:
    console = console_of(request)
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str) and k != "unset"}
    ticked = [v for v in raw.getlist("unset") if isinstance(v, str)][:len(FIELDS)]
    target = form.get("machine", "")
    scope = target if is_valid_id(target) else None
    where = scope or f"site {console.site}"
    try:
        patch = patch_from_form(form)
        unset = unset_from_form(ticked, form)
        if not patch and not unset:
            raise ValueError("no field was filled in or unset: nothing to change")
    except ValueError as exc:
        console.accounts.audit(me.staff.name, "config refused", where, str(exc))
        return _page(request, me, scope, problem=f"Not sent: {exc}", filled=form, ticked=ticked)
    changes: list[str] = []

    def prepare(retained: bytes | None, topic: str, view: FleetView) -> bytes:
        payload, diff = checked_layer(patch, retained, topic, view, replace=False, force=False,
                                      name="from the console", unset=unset)
        changes.extend(diff)
        return payload

    try:
        rollout = await run_in_threadpool(apply, console.broker, console.site, scope, prepare, PUSH_TIMEOUT_S)
    except (ValueError, CommandFailed, OSError) as exc:
        console.accounts.audit(me.staff.name, "config refused", where, str(exc))
        return _page(request, me, scope, problem=f"Not sent: {exc}", filled=form, ticked=ticked)
    # The kiosks answered on the push's own connection; the page shows the console's view of their config
    # state, which hears the same retained message a moment later. Rendered before it did, the page showed
    # the old value beside "applied" (seen under load). Waited for, bounded: a later push may overtake it.
    answered = {m: v for m, v in rollout.verdicts.items() if isinstance(v, ConfigState)}
    view = console.floor.view
    await run_in_threadpool(view.wait_until, lambda: all(view.value(m, "config") == v for m, v in answered.items()),
                            VIEW_CATCH_UP_S)
    lines = [line.strip() for line in changes] + _verdicts(rollout)
    console.accounts.audit(me.staff.name, "config push", where, "; ".join(lines))
    return _page(request, me, scope, pushed=lines, confirmed=rollout.confirmed)


ROUTES = [
    Route("/config", config_page, methods=["GET"]),
    Route("/config", push, methods=["POST"]),
]
