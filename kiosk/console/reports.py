"""An operator's reports page: the recorder's usage and safety report for a chosen range, and its CSV.

The same figures as `legpress-fleet report` (kiosk/fleet/recorder/figures.py)
and `report --pain` (pain_answers.py), read from the recorder's store without
writing to it (no migration: the recorder owns the schema), off the server's
loop. The downloads are the CLI's CSVs, every cell formula-neutralised the same
way, so a member id or a staff name from a kiosk cannot run in a spreadsheet.
"""

import io
import sqlite3
import time
from dataclasses import dataclass
from datetime import date, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kiosk.console.web import Who, console_of, page, render
from kiosk.contract.ids import is_valid_id
from kiosk.fleet import CommandFailed
from kiosk.fleet.recorder.figures import DAILY_COLUMNS, MachineDay, Period, machine_days
from kiosk.fleet.recorder.pain_answers import PAIN_COLUMNS, PainAnswer, pain_answers
from kiosk.fleet.recorder.store_url import open_store
from kiosk.fleet.report import write_rows

DEFAULT_DAYS = 7  # the page opens on the last week, today included
MAX_DAYS = 366


class RangeError(ValueError):
    """The range asked for cannot be reported; the message is for the page."""


@dataclass(frozen=True)
class Figures:
    days: list[MachineDay]
    pain: list[PainAnswer]


def period_of(request: Request) -> Period:
    """The range in the query (`from`, `to`, `machine`), checked; the last week by default."""
    q = request.query_params
    today = date.today()
    try:
        last = date.fromisoformat(q["to"]) if q.get("to") else today
        first = date.fromisoformat(q["from"]) if q.get("from") else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise RangeError("Dates are written like 2026-12-01.") from None
    if first > last:
        raise RangeError(f"The range starts ({first}) after it ends ({last}).")
    if (last - first).days >= MAX_DAYS:
        raise RangeError(f"A report on this page covers at most {MAX_DAYS} days; the CLI covers more.")
    machine = q.get("machine", "").strip() or None
    if machine is not None and not is_valid_id(machine):
        raise RangeError("A machine id is lowercase letters, digits, '_' or '-'.")
    return Period(first, last, machine)


def _read(store_url: str, period: Period) -> Figures:
    # Read only: the installed console may read the recorder's file (its group) but never write it.
    store = open_store(store_url, must_exist=True, read_only=True)
    try:
        now = time.time()
        return Figures(machine_days(store, period, now), pain_answers(store, period, now))
    except sqlite3.Error as exc:  # e.g. the file's folder or its -wal unreadable to this console's user
        raise CommandFailed(f"{exc} (can the console's user read the store and its folder?)") from None
    finally:
        store.close()


async def _figures(request: Request, period: Period) -> Figures:
    store_url = console_of(request).store
    if store_url is None:
        raise RangeError("This console has no recorder store (console serve --store): there is nothing to report.")
    try:
        return await run_in_threadpool(_read, store_url, period)
    except CommandFailed as exc:
        raise RangeError(f"The recorder's store could not be read: {exc}") from None


@page("operator")
async def reports_page(request: Request, me: Who) -> Response:
    context: dict[str, object] = {"columns": DAILY_COLUMNS, "pain_columns": PAIN_COLUMNS,
                                  "query": request.url.query}
    try:
        period = period_of(request)
        context["period"] = period
        context["figures"] = await _figures(request, period)
    except RangeError as exc:
        context["problem"] = str(exc)
        q = request.query_params
        context["period"] = Period(None, None, None)
        context["asked"] = {k: q.get(k, "")[:32] for k in ("from", "to", "machine")}
        return render(request, "reports.html", context, status_code=400, me=me)
    return render(request, "reports.html", context, me=me)


@page("operator")
async def reports_csv(request: Request, me: Who) -> Response:
    table = request.path_params["table"]
    if table not in ("daily", "pain"):
        return Response("no such report\n", status_code=404, media_type="text/plain")
    try:
        period = period_of(request)
        figures = await _figures(request, period)
    except RangeError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    out = io.StringIO()
    if table == "daily":
        write_rows(out, DAILY_COLUMNS, [d.cells() for d in figures.days])
    else:
        write_rows(out, PAIN_COLUMNS, [a.cells() for a in figures.pain])
    name = f"legpress-{table}-{period.first}-{period.last}{'-' + period.machine if period.machine else ''}.csv"
    console_of(request).accounts.audit(me.staff.name, "report download", name, f"{len(out.getvalue())} bytes")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


ROUTES = [
    Route("/reports", reports_page, methods=["GET"]),
    Route("/reports/{table}.csv", reports_csv, methods=["GET"]),
]
