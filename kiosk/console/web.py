"""The console's web app: sign-in, roles, CSRF, and the pages of the floor, alerts and machines.

Every page needs a session (without one: a redirect to sign in; data and
actions: 401). Every POST needs the session's CSRF token. Roles rank
desk < trainer < operator; a page or action names the least role it needs.
Templates autoescape, so a member's name or an operator's message is shown as
text, and the Content-Security-Policy lets only the console's own script run.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.console.accounts import RANK, Accounts, Role, Staff
from kiosk.console.alerts import Alert
from kiosk.console.desk import CommandError, Desk
from kiosk.console.floor import Floor
from kiosk.console.guard import COOKIE, SESSION_MAX_AGE_S, LoginBrake, Session, Sessions, csrf_ok
from kiosk.console.staff_words import SEEN_BY, display_name
from kiosk.mqtt.broker_url import BrokerUrl

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ALERT_SOUND = HERE.parents[1] / "assets" / "sounds" / "stop.wav"
LOGIN_COOKIE = "legpress_console_login"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


@dataclass
class Console:
    """What the pages share: the accounts, the sessions, the floor and the command desk."""

    site: str
    broker: BrokerUrl
    accounts: Accounts
    sessions: Sessions
    floor: Floor
    desk: Desk
    tls: bool
    brake: LoginBrake
    login_signer: URLSafeSerializer
    # The operators' `<kid>.key` that signs member cards; None: cards are issued with the CLI only.
    signing_key: Path | None = None
    # The recorder's store (`sqlite:PATH` or a PostgreSQL URL), read only; None: no reports page.
    store: str | None = None

    def cookie_flags(self) -> dict[str, Any]:
        return {"httponly": True, "samesite": "strict", "secure": self.tls, "path": "/"}


@dataclass(frozen=True)
class Who:
    staff: Staff
    session: Session


Handler = Callable[[Request, Who], Awaitable[Response]]


def _templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("kiosk.console", "templates"), autoescape=select_autoescape(default=True))
    return Jinja2Templates(env=env)


TEMPLATES = _templates()


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def who(request: Request) -> Who | None:
    console = console_of(request)
    session = console.sessions.read(request.cookies.get(COOKIE))
    if session is None:
        return None
    staff = console.accounts.get(session.user)  # a removed account's cookie is worth nothing
    return None if staff is None else Who(staff, session)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
           me: Who | None = None) -> Response:
    base = {"me": me, "site": console_of(request).site, "rank": RANK}
    return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def page(role: Role) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A page for `role` and above: no session, a redirect to sign in; too low a role, 403."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            me = who(request)
            if me is None:
                return RedirectResponse("/login", status_code=303)
            if RANK[me.staff.role] < RANK[role]:
                return render(request, "refused.html", {"need": role}, status_code=403, me=me)
            return await handler(request, me)
        return endpoint
    return wrap


def action(role: Role) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A state-changing request for `role` and above: no session 401, no or a wrong CSRF token 403, low role 403."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            me = who(request)
            if me is None:
                return JSONResponse({"error": "sign in first"}, status_code=401)
            token = request.headers.get("x-csrf-token")
            if token is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")):
                field = (await request.form()).get("csrf")
                token = field if isinstance(field, str) else None
            if not csrf_ok(me.session, token):
                console_of(request).accounts.audit(me.staff.name, "refused", request.url.path, "no valid CSRF token")
                return JSONResponse({"error": "missing or wrong CSRF token; reload the page"}, status_code=403)
            if RANK[me.staff.role] < RANK[role]:
                console_of(request).accounts.audit(me.staff.name, "refused", request.url.path,
                                                   f"needs role {role}")
                return JSONResponse({"error": f"this needs the {role} role"}, status_code=403)
            return await handler(request, me)
        return endpoint
    return wrap


# -- signing in -----------------------------------------------------------------------------------

async def login_form(request: Request, error: str = "", status_code: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"login_csrf": token, "error": error}, status_code=status_code)
    response.set_cookie(LOGIN_COOKIE, console_of(request).login_signer.dumps(token), max_age=3600,
                        **console_of(request).cookie_flags())
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    user, password, token = (str(form.get(k, "")) for k in ("user", "password", "csrf"))
    try:
        expected = console.login_signer.loads(request.cookies.get(LOGIN_COOKIE, ""))
    except BadSignature:
        expected = None
    if not isinstance(expected, str) or not secrets.compare_digest(expected, token):
        return await login_form(request, "The sign-in form had expired. Please try again.", 403)
    address = request.client.host if request.client else "unknown"
    user = user.strip()[:64]
    wait = console.brake.wait_s(user, address)
    if wait > 0:
        console.accounts.audit(user, "sign-in refused", address, f"too many wrong passwords; wait {wait:.0f} s")
        return await login_form(request, f"Too many wrong passwords. Try again in {wait:.0f} seconds.", 429)
    staff = await run_in_threadpool(console.accounts.verify, user, password)
    if staff is None:
        console.brake.failed(user, address)
        console.accounts.audit(user, "sign-in failed", address, "wrong user or password")
        return await login_form(request, "Wrong user or password.", 401)
    console.brake.succeeded(user, address)
    console.accounts.audit(staff.name, "signed in", address, staff.role)
    cookie, _session = console.sessions.issue(staff.name)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=SESSION_MAX_AGE_S, **console.cookie_flags())
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@action("desk")
async def logout(request: Request, me: Who) -> Response:
    console_of(request).accounts.audit(me.staff.name, "signed out", "", "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- the floor and its alerts ---------------------------------------------------------------------

def floor_context(console: Console) -> dict[str, Any]:
    return {"tiles": console.floor.tiles(), "alerts": console.floor.open_alerts(),
            "dropped": console.floor.dropped_alerts(),
            "answered": console.floor.answered_alerts()[:5], "describe": console.floor.describe}


@page("desk")
async def floor_page(request: Request, me: Who) -> Response:
    return render(request, "floor.html", floor_context(console_of(request)), me=me)


async def _assist(console: Console, who_name: str, machine: str, state: str, by: str) -> str:
    """Tell the kiosk (`assist`); the outcome in words, for the audit log and the page."""
    try:
        reply = await console.desk.send(machine, "assist", {"state": state, "by": by})
    except CommandError as exc:
        outcome = f"error: {exc}"
    else:
        outcome = "ok" if reply.status == "ok" else f"error: {reply.error}"
    console.accounts.audit(who_name, f"assist {state}", machine, outcome)
    if outcome != "ok":  # the member was not told: staff must know that too
        why = outcome.removeprefix("error: ")
        console.floor.raise_alert(Alert("command", machine, detail=f"assist {state}: {why}"))
    return outcome


@action("desk")
async def alert_seen(request: Request, me: Who) -> Response:
    """A signed-in screen shows the alert: the first time, a pain alert's member is told staff know."""
    console = console_of(request)
    alert = console.floor.mark_seen(request.path_params["alert"])
    if alert is None or alert.kind != "pain":
        return JSONResponse({"sent": False})
    outcome = await _assist(console, me.staff.name, alert.machine, "seen", SEEN_BY)
    return JSONResponse({"sent": True, "outcome": outcome})


@action("desk")
async def alert_answer(request: Request, me: Who) -> Response:
    """"On my way": the alert is answered by this person, and a member at the machine is told who is coming."""
    console = console_of(request)
    name = display_name(me.staff.name)
    alert = console.floor.answer(request.path_params["alert"], name)
    if alert is None:
        return JSONResponse({"error": "this alert was already answered, or is gone"}, status_code=409)
    waited = (alert.answered_at or 0.0) - alert.raised_at
    console.accounts.audit(me.staff.name, "answered alert", alert.machine,
                           f"{alert.kind} {alert.detail}, {waited:.1f} s after it was raised".strip())
    outcome = ""
    if alert.kind in ("pain", "stopped"):
        outcome = await _assist(console, me.staff.name, alert.machine, "coming", name)
    return JSONResponse({"answered": alert.id, "outcome": outcome})


@page("operator")
async def audit_page(request: Request, me: Who) -> Response:
    def when(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return render(request, "audit.html", {"entries": console_of(request).accounts.audit_log(), "when": when}, me=me)


async def alert_sound(_request: Request) -> Response:
    return FileResponse(ALERT_SOUND, media_type="audio/wav")


_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store")]


class SecurityHeaders:
    """Plain ASGI (not BaseHTTPMiddleware), so the live stream is passed through as it is written."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in _HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)
