"""One member's progress in the HTML report (`report --format html --member ID`): their best set's load and
mean velocity, session by session, drawn as inline SVG, and the sessions' figures as a table.

The x axis is the member's sessions in the order they started (a member trains
a few times a week, so a calendar axis would be mostly gaps); each is labelled
with its day and machine. Load on the left axis, velocity on the right: a load
that rises while the velocity holds is a member getting stronger.
"""

import io
from collections.abc import Sequence
from html import escape

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from kiosk.fleet.recorder.figures import MemberSession

WIDTH_IN, HEIGHT_IN = 9.0, 3.4
# More sessions than this and only every n-th is labelled, so the labels never overlap.
MAX_LABELS = 14
PROGRESS_COLUMNS = ("date", "machine", "session", "sets", "reps", "best_set_load_kg", "best_set_reps",
                    "best_mean_velocity_mps", "volume_kg")


def figure_svg(figure: Figure) -> str:
    """A figure as SVG to inline in HTML (no XML prolog, no date: the same report gives the same bytes)."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg"):]


def progress_figure(sessions: Sequence[MemberSession]) -> Figure:
    """The member's best set load (kg, left) and best mean velocity (m/s, right) per session."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), layout="constrained")
    load_axis = figure.subplots()
    x = list(range(1, len(sessions) + 1))
    loads = [s.progress.best_set_load_kg for s in sessions]
    velocities = [s.progress.best_mean_velocity_mps for s in sessions]
    # A session without a load or a velocity is a gap in its line, not a zero.
    load_axis.plot(x, [float("nan") if v is None else v for v in loads], marker="o", color="tab:blue",
                   label="best set load (kg)")
    load_axis.set_ylabel("load (kg)")
    load_axis.set_ylim(0, max([v for v in loads if v is not None] + [10.0]) * 1.15)
    speed_axis = load_axis.twinx()
    speed_axis.plot(x, [float("nan") if v is None else v for v in velocities], marker="s", color="tab:orange",
                    label="best mean velocity (m/s)")
    speed_axis.set_ylabel("velocity (m/s)")
    speed_axis.set_ylim(0, max([v for v in velocities if v is not None] + [0.5]) * 1.15)
    step = max(1, -(-len(x) // MAX_LABELS))
    labelled = x[::step]
    load_axis.xaxis.set_major_locator(FixedLocator(labelled))
    load_axis.set_xticklabels([f"{sessions[i - 1].date[5:]}\n{sessions[i - 1].machine}" for i in labelled],
                              fontsize="small")
    load_axis.set_xlim(0.5, len(x) + 0.5)
    load_axis.grid(axis="y", alpha=0.3)
    handles = load_axis.get_legend_handles_labels()[0] + speed_axis.get_legend_handles_labels()[0]
    load_axis.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1), fontsize="small", ncols=2,
                     frameon=False)
    return figure


def progress_section(member: str, sessions: Sequence[MemberSession]) -> list[str]:
    """The report's section for one member: heading, chart and table, every text escaped."""
    parts = ['<section class="chart" id="member-progress">', f"<h2>Progress of member {escape(member)}</h2>"]
    if not sessions:
        return [*parts, f'<p class="empty">No sessions of member {escape(member)} in this period.</p>', "</section>"]
    parts += ["<p>Each session in the order it started: the best set (the heaviest, then the most reps) and its "
              "fastest mean push.</p>", figure_svg(progress_figure(sessions))]
    head = "".join(f"<th>{escape(c)}</th>" for c in PROGRESS_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in (
            s.date, s.machine, s.session, str(s.sets), str(s.reps), *s.progress.cells())) + "</tr>"
        for s in sessions)
    return [*parts, f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>", "</section>"]
