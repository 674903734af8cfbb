"""A trainer issues a member's card from the members page: a printable page with the member's signed QR.

The signing key is the operators' `<kid>.key` on the console host
(`console serve --signing-key`), read as it is, with its current file mode,
each time a card is issued: a key replaced on disk is used from the next card
on, and the console never copies it or changes its mode. What reaches the
browser is only the rendered card (a PNG, the same layout as
`legpress-fleet members issue` prints); the code's text is not on the page.
Issuing is a POST behind the session's CSRF token, for trainers and operators,
and written to the audit log.
"""

import base64
import time
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kiosk.console.web import Who, action, console_of, render
from kiosk.contract.ids import is_valid_id
from kiosk.fleet.cards import card_png, title
from kiosk.fleet.members import DAY_S, DEFAULT_DAYS, issue_code

MAX_DAYS = 3 * 365  # a card outlives a membership year, not a decade: a lost card stays a bearer credential


def _card(key: Path, member: str, name: str, days: int, language: str | None) -> str:
    """The card as a data URL (the page's CSP allows `data:` images and nothing else from outside), its words
    in `language`."""
    now = time.time()
    code = issue_code(key, member, name, "member", float(int(now) + days * DAY_S), now)
    png = card_png(code, member, name.strip(), language)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _days(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_DAYS:
        return None
    return int(text)


@action("trainer")
async def issue_card(request: Request, me: Who) -> Response:
    console = console_of(request)
    form = await request.form()
    member, name, days_text = (str(form.get(k, "")).strip() for k in ("member", "name", "days"))
    days = _days(days_text or str(DEFAULT_DAYS))
    problem = ""
    if not is_valid_id(member):
        problem = "The member id must be 1 to 64 lowercase letters, digits, '_' or '-'."
    elif not name or len(name) > 40 or not name.isprintable():
        problem = "The name on the card must be printable text of 1 to 40 characters."
    elif days is None:
        problem = f"Valid for must be a whole number of days from 1 to {MAX_DAYS}."
    elif console.signing_key is None:
        problem = "This console has no signing key (console serve --signing-key): issue cards with the CLI."
    if problem or days is None or console.signing_key is None:
        console.accounts.audit(me.staff.name, "issue card refused", member[:64], problem)
        return render(request, "members.html", {"query": "", "found": [], "outcome": f"No card issued: {problem}",
                                                "card_member": member[:64], "card_name": name[:40]},
                      status_code=400, me=me)
    language = console.floor.card_language(member)
    try:
        image = await run_in_threadpool(_card, console.signing_key, member, name, days, language)
    except (OSError, ValueError) as exc:
        # The key missing or unreadable on the host: say so to the trainer, and the operator reads the audit log.
        console.accounts.audit(me.staff.name, "issue card failed", member, str(exc))
        return render(request, "members.html", {"query": "", "found": [],
                                                "outcome": "No card issued: the signing key could not be read. "
                                                "Ask an operator."}, status_code=500, me=me)
    expires = time.strftime("%Y-%m-%d", time.localtime(time.time() + days * DAY_S))
    console.accounts.audit(me.staff.name, "issue card", member, f"{name}, valid {days} days (until {expires})")
    return render(request, "card.html", {"member": member, "name": name, "image": image, "expires": expires,
                                         "title": title(language)}, me=me)


ROUTES = [Route("/cards", issue_card, methods=["POST"])]
