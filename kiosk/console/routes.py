"""The console's route table: every page and action, behind the security headers.

Apart from `web.py` (the shared machinery every page module imports: the console, who is signed in, the
page and action guards) so that the pages import it and it imports them, never both ways.
"""

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiosk.console import cards, config_page, live, machines, members, reports
from kiosk.console.web import (
    Console,
    SecurityHeaders,
    alert_answer,
    alert_seen,
    alert_sound,
    audit_page,
    floor_page,
    login,
    login_form,
    logout,
)


def build_app(console: Console, lifespan: Any = None) -> Starlette:
    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", floor_page, methods=["GET"]),
        Route("/live", live.stream, methods=["GET"]),
        Route("/alerts/{alert}/seen", alert_seen, methods=["POST"]),
        Route("/alerts/{alert}/answer", alert_answer, methods=["POST"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/sound/alert.wav", alert_sound, methods=["GET"]),
        *machines.ROUTES,
        *members.ROUTES,
        *cards.ROUTES,
        *reports.ROUTES,
        *config_page.ROUTES,
        Mount("/static", StaticFiles(packages=[("kiosk.console", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.console = console
    return app
