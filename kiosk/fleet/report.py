"""`legpress-fleet report`: usage and safety per machine and day from the recorder's store, as CSV or HTML.

The CSV columns and their order are a public interface (shared spec): other
tools read them. `--members` adds one row per member session, in a second CSV
named like FILE with `-members` before its suffix; `--pain` one row per pain
report with how long until staff saw it and until someone was on the way
(`-pain` before the suffix): kept out of the daily CSV, whose columns are fixed.
`--member ID` narrows the members CSV to one member and adds their progress
chart to the HTML report.
"""

import argparse
import csv
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.contract.ids import check_id
from kiosk.contract.text import escape_controls, spreadsheet_cell
from kiosk.fleet.record import add_store_option
from kiosk.fleet.recorder.figures import DAILY_COLUMNS, MEMBER_COLUMNS, Period, machine_days, member_sessions
from kiosk.fleet.recorder.pain_answers import PAIN_COLUMNS, pain_answers
from kiosk.fleet.recorder.store_url import open_store

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from kiosk.fleet.parser import FleetParser


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    report = commands.add_parser("report", help="usage and safety per machine and day, from the recorder's store")
    add_store_option(report)
    report.add_argument("--from", dest="first", type=_day, metavar="DATE",
                        help="first day, YYYY-MM-DD (default: the first record)")
    report.add_argument("--to", dest="last", type=_day, metavar="DATE",
                        help="last day, included, YYYY-MM-DD (default: today)")
    report.add_argument("--machine", type=_machine, metavar="ID", help="only this machine (default: every machine)")
    report.add_argument("--format", choices=("csv", "html"), required=True, help="csv, or html with charts")
    report.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    report.add_argument("--members", action="store_true",
                        help="also one row per member session, in FILE with -members before the suffix (CSV)")
    report.add_argument("--member", type=_member, metavar="ID",
                        help="one member only: their sessions in the --members CSV, and with --format html a "
                        "chart of their progress (best set load and velocity per session)")
    report.add_argument("--pain", action="store_true",
                        help="also one row per pain report with the seconds until staff saw it and until someone "
                        "was on the way (the console's `assist`), in FILE with -pain before the suffix (CSV)")
    report.set_defaults(run=_report)


def members_path(out: str | Path, report_format: str = "csv") -> Path:
    """FILE with `-members` before its suffix: `daily.csv` -> `daily-members.csv`, `daily.txt` ->
    `daily-members.txt`, `daily` -> `daily-members`, as the spec says and scripts compute it.

    Beside an HTML report the members file is still a CSV, so it gets `.csv` there rather than a
    `.html` name a browser would open as a page.
    """
    return beside(out, "members", report_format)


def beside(out: str | Path, tag: str, report_format: str = "csv") -> Path:
    """FILE with `-<tag>` before its suffix, a CSV beside an HTML report (`members_path`)."""
    out = Path(out)
    suffix = ".csv" if report_format == "html" else out.suffix
    return out.with_name(f"{out.stem}-{tag}{suffix}")


def _report(args: argparse.Namespace) -> int:
    period = Period(args.first, args.last, args.machine)
    if period.first and period.last and period.first > period.last:
        raise ValueError(f"--from {period.first} is after --to {period.last}")
    if args.member and not args.members and args.format != "html":
        raise ValueError("--member needs --members (the CSV of their sessions) or --format html (their chart)")
    now = time.time()
    store = open_store(args.store, must_exist=True)
    try:
        store.migrate()
        days = machine_days(store, period, now)
        sessions = member_sessions(store, period, now, args.member) if args.members or args.member else []
        answers = pain_answers(store, period, now) if args.pain or args.format == "html" else []
    finally:
        store.close()
    out = Path(args.out)
    if args.format == "csv":
        write_csv(out, DAILY_COLUMNS, [d.cells() for d in days])
    else:
        from kiosk.fleet.recorder.html import render

        generated = datetime.fromtimestamp(now).astimezone().isoformat(timespec="minutes")
        member = (args.member, sessions) if args.member else None
        out.write_text(render(days, period, generated, answers, member), encoding="utf-8")
    written = [f"{out} ({len(days)} machine-days)"]
    if args.members:
        members = members_path(out, args.format)
        write_csv(members, MEMBER_COLUMNS, [s.cells() for s in sessions])
        written.append(f"{members} ({len(sessions)} member sessions)")
    if args.pain:
        pain = beside(out, "pain", args.format)
        write_csv(pain, PAIN_COLUMNS, [a.cells() for a in answers])
        written.append(f"{pain} ({len(answers)} pain reports)")
    print("wrote " + ", ".join(written))
    return 0


def write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        write_rows(f, header, rows)


def write_rows(f: "SupportsWrite[str]", header: tuple[str, ...], rows: list[list[str]]) -> None:
    """The report's CSV into any text file (the console's download too), every cell formula-neutralised."""
    writer = csv.writer(f)
    writer.writerow(header)
    # Member ids, sessions and settings come from kiosks: no cell may run as a spreadsheet formula.
    writer.writerows([spreadsheet_cell(escape_controls(cell)) for cell in row] for row in rows)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date, e.g. 2026-12-01") from None


def _machine(text: str) -> str:
    try:
        return check_id(text, "machine")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _member(text: str) -> str:
    try:
        return check_id(text, "member")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
