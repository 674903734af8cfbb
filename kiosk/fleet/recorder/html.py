"""The HTML report: one self-contained file, charts drawn by matplotlib as inline SVG, no network needed.

Charts: sessions per day, lift-off rate per machine over time, pain reports per
day, out-of-order time per day (each per machine), then the day-by-day table
the CSV holds. Fonts are drawn as paths, so the file looks the same in any
browser, on any host.

Every chart spans the report's days, half a day either side, with one label
per day up to two weeks, one per week (Mondays) up to about four months and
one per month beyond: matplotlib's own date locator labels a one-day report
with repeated dates, and an empty chart with its epoch. Counts start at 0 and
reach at least 1, so a chart of nothing reads as zero, not as -0.045 to 0.045.
"""

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from html import escape

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator

from kiosk.fleet.recorder.figures import DAILY_COLUMNS, MachineDay, MemberSession, Period
from kiosk.fleet.recorder.pain_answers import PAIN_COLUMNS, PainAnswer
from kiosk.fleet.recorder.progress_chart import figure_svg, progress_section

WIDTH_IN, HEIGHT_IN = 9.0, 3.2
# Up to this many days a label each; up to WEEKLY_DAYS a label each Monday; beyond, one each month.
DAILY_DAYS, WEEKLY_DAYS = 14, 120
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2327; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.chart svg { width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #d0d5da; padding: 0.25rem 0.5rem; text-align: right; }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
.empty { color: #5c6670; }
"""


def render(days: Sequence[MachineDay], period: Period, generated: str, pain: Sequence[PainAnswer] = (),
           member: tuple[str, Sequence[MemberSession]] | None = None) -> str:
    """The whole report as one HTML document; `pain`, the period's pain reports and their answers, last;
    `member`, one member and their sessions: their progress, first (`report --member`)."""
    machines = sorted({d.machine for d in days})
    scope = f"machine {escape(period.machine)}" if period.machine else "all machines"
    when = _period_text(days, period)
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        "<title>Leg press usage and safety report</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        "<h1>Leg press usage and safety report</h1>",
        (f"<p>{when}, {scope}; sites: {escape(', '.join(sorted({d.site for d in days})) or '-')}. "
        f"Generated {escape(generated)}.</p>"),
    ]
    if member is not None:
        parts += progress_section(*member)
    if not days:
        parts.append('<p class="empty">Nothing was recorded in this period.</p>')
    else:
        span = _span(days, period)
        for chart_id, title, draw in _CHARTS:
            parts += [f'<section class="chart" id="{chart_id}">', f"<h2>{title}</h2>",
                      _svg(draw, days, machines, span), "</section>"]
        parts += ['<section id="table">', "<h2>Per machine and day</h2>", _table(days), "</section>"]
    if pain:
        parts += ['<section id="pain-answers">', "<h2>Pain reports and how long until staff answered</h2>",
                  "<p>Seen: a staff screen showed the alert. Coming: someone said they were on the way. "
                  "An empty cell: it never happened.</p>",
                  _rows(PAIN_COLUMNS, [a.cells() for a in pain]), "</section>"]
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _period_text(days: Sequence[MachineDay], period: Period) -> str:
    first = period.first.isoformat() if period.first else (days[0].date if days else "the first record")
    last = period.last.isoformat() if period.last else (days[-1].date if days else "today")
    return f"{escape(first)} to {escape(last)}"


def _span(days: Sequence[MachineDay], period: Period) -> tuple[date, date]:
    """The first and last day the charts show: the period asked for, else the days recorded."""
    recorded = sorted(date.fromisoformat(d.date) for d in days)
    return period.first or recorded[0], period.last or recorded[-1]


def day_ticks(first: date, last: date) -> tuple[list[date], str]:
    """The labelled days of an axis from `first` to `last`, and their strftime format."""
    span = (last - first).days + 1
    every_day = [first + timedelta(days=i) for i in range(span)]
    if span <= DAILY_DAYS:
        return every_day, "%d %b"
    if span <= WEEKLY_DAYS:
        return [d for d in every_day if d.weekday() == 0], "%d %b"
    return [d for d in every_day if d.day == 1] or [first], "%b %Y"


def _day_axis(ax: Axes, first: date, last: date) -> None:
    ticks, form = day_ticks(first, last)
    ax.set_xlim(_day_number(first.isoformat()) - 0.6, _day_number(last.isoformat()) + 0.6)
    ax.xaxis.set_major_locator(FixedLocator([_day_number(d.isoformat()) for d in ticks]))
    ax.xaxis.set_major_formatter(mdates.DateFormatter(form))


def _per_machine(days: Sequence[MachineDay], machines: list[str], value: Callable[[MachineDay], float],
                 ) -> tuple[list[float], dict[str, list[float]]]:
    """Every day of the report on the x axis (matplotlib's day numbers), and each machine's value (0: no row)."""
    x_days = sorted({d.date for d in days})
    index = {day: i for i, day in enumerate(x_days)}
    series = {m: [0.0] * len(x_days) for m in machines}
    for d in days:
        series[d.machine][index[d.date]] = value(d)
    return [_day_number(day) for day in x_days], series


def _day_number(day: str) -> float:
    return float(mdates.date2num(date.fromisoformat(day)))


def _stacked_bars(ax: Axes, days: Sequence[MachineDay], machines: list[str], value: Callable[[MachineDay], float],
                  unit: str, integer: bool = True) -> None:
    x, series = _per_machine(days, machines, value)
    bottom = [0.0] * len(x)
    for machine in machines:
        ax.bar(x, series[machine], bottom=bottom, width=0.8, label=machine)
        bottom = [b + v for b, v in zip(bottom, series[machine], strict=True)]
    ax.set_ylabel(unit)
    if integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _sessions(ax: Axes, days: Sequence[MachineDay], machines: list[str]) -> None:
    _stacked_bars(ax, days, machines, lambda d: d.sessions, "sessions")


def _liftoff_rate(ax: Axes, days: Sequence[MachineDay], machines: list[str]) -> None:
    for machine in machines:
        # Only days with reps have a rate; a day without is a gap, not a zero.
        points = [(_day_number(d.date), d.liftoff_rate) for d in days if d.machine == machine and d.reps]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=machine)
    ax.set_ylabel("lift-offs per 100 reps")


def _pain(ax: Axes, days: Sequence[MachineDay], machines: list[str]) -> None:
    _stacked_bars(ax, days, machines, lambda d: d.pain_reports, "pain reports")


def _out_of_order(ax: Axes, days: Sequence[MachineDay], machines: list[str]) -> None:
    _stacked_bars(ax, days, machines, lambda d: d.out_of_order_min, "minutes out of order", integer=False)


_CHARTS = (
    ("sessions-per-day", "Sessions per day", _sessions),
    ("liftoff-rate", "Lift-off rate per machine", _liftoff_rate),
    ("pain-reports", "Pain reports per day", _pain),
    ("out-of-order", "Time out of order per day", _out_of_order),
)


def chart(chart_id: str, days: Sequence[MachineDay], span: tuple[date, date]) -> Figure:
    """One of the report's charts (`sessions-per-day`, `liftoff-rate`, ...) as a figure, as the report draws it."""
    draw = next(draw for cid, _title, draw in _CHARTS if cid == chart_id)
    return _figure(draw, days, sorted({d.machine for d in days}), span)


def _svg(draw: Callable[[Axes, Sequence[MachineDay], list[str]], None], days: Sequence[MachineDay],
         machines: list[str], span: tuple[date, date]) -> str:
    return figure_svg(_figure(draw, days, machines, span))


def _figure(draw: Callable[[Axes, Sequence[MachineDay], list[str]], None], days: Sequence[MachineDay],
            machines: list[str], span: tuple[date, date]) -> Figure:
    # A Figure of its own, not pyplot: no global state, no GUI backend, safe in any thread.
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
    ax = figure.subplots()
    draw(ax, days, machines)
    _day_axis(ax, *span)
    # Every figure here is a count or a rate: from 0, and up to 1 at least when there is nothing to show.
    ax.set_ylim(0, max(ax.get_ylim()[1], 1))
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        # Above the plot, so it never hides a bar.
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize="small", ncols=min(len(machines), 8),
                  frameon=False)
    return figure


def _table(days: Sequence[MachineDay]) -> str:
    return _rows(DAILY_COLUMNS, [d.cells() for d in days])


def _rows(columns: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
