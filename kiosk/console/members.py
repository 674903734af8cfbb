"""A trainer's members page: find a member by id or name, withdraw their codes, erase their saved settings.

The same operations as `legpress-fleet members revoke` and `members erase`
(kiosk/fleet/members.py), run off the server's loop. Erasing asks first, in a
page that names the member, and goes ahead only with the member's id typed back.
"""

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kiosk.console.web import Who, action, console_of, page, render
from kiosk.contract.ids import is_valid_id
from kiosk.fleet.members import revoke_member
from kiosk.fleet.profile_erasure import ask_erase
from kiosk.mqtt.connection import CommandFailed

OPERATION_TIMEOUT_S = 5.0


@page("trainer")
async def members_page(request: Request, me: Who) -> Response:
    query = request.query_params.get("q", "")[:64]
    found = console_of(request).floor.find_members(query) if query else []
    return render(request, "members.html", {"query": query, "found": found}, me=me)


def _member(request: Request) -> tuple[str, str] | None:
    member = request.path_params["member"]
    if not is_valid_id(member):
        return None
    return member, console_of(request).floor.member_name(member) or member


@action("trainer")
async def revoke(request: Request, me: Who) -> Response:
    console, who_ = console_of(request), _member(request)
    if who_ is None:
        return render(request, "refused.html", {"missing": request.path_params["member"]}, 404, me=me)
    member, name = who_
    try:
        await run_in_threadpool(revoke_member, console.broker, console.site, member, time.time(),
                                f"revoked at the console by {me.staff.name}", OPERATION_TIMEOUT_S)
        outcome = f"Every code of {name} ({member}) issued until now is withdrawn; issue a new card."
    except (CommandFailed, ValueError) as exc:
        outcome = f"Not withdrawn: {exc}"
    console.accounts.audit(me.staff.name, "revoke", member, outcome)
    return render(request, "members.html", {"query": member, "found": console.floor.find_members(member),
                                            "outcome": outcome}, me=me)


@action("trainer")
async def erase(request: Request, me: Who) -> Response:
    console, who_ = console_of(request), _member(request)
    if who_ is None:
        return render(request, "refused.html", {"missing": request.path_params["member"]}, 404, me=me)
    member, name = who_
    form = await request.form()
    if form.get("confirm") != member:
        return render(request, "erase.html", {"member": member, "name": name,
                                              "wrong": "confirm" in form}, me=me)
    try:
        # Through the profile desk: the console's login may not write profiles (docs/security.md).
        await run_in_threadpool(ask_erase, console.broker, console.site, member, me.staff.name, OPERATION_TIMEOUT_S)
        console.floor.forget_member(member)
        outcome = f"{name} ({member}) is erased: their saved settings are gone from every kiosk."
    except (CommandFailed, ValueError) as exc:
        outcome = f"Not erased: {exc}"
    console.accounts.audit(me.staff.name, "erase", member, outcome)
    return render(request, "members.html", {"query": "", "found": [], "outcome": outcome}, me=me)


ROUTES = [
    Route("/members", members_page, methods=["GET"]),
    Route("/members/{member}/revoke", revoke, methods=["POST"]),
    Route("/members/{member}/erase", erase, methods=["POST"]),
]
