"""What counting today's usage again from the event journal adds to a kiosk's start, on a full journal.

A restarted kiosk reads its sessions today and its last session's lift-off rate
back from the journal (`kiosk/core/usage_counts.py`, the core thread's first job, so it
does not hold up `ready`, but the first scan waits behind it) instead of starting from zero.
The journal holds up to `MAX_HELD` events (8 days of a busy machine). The worst
case is measured: a journal full to its bound whose only session with reps is
its oldest, so finding the last rate reads every row. The baseline, in the same
run, is the journal's own start on the same file (`EventJournal.start`), which
every start pays already.

    .venv/bin/python bench/bench_usage_resume.py --write docs/benchmarks.md
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from report import write_section

from kiosk.contract.base import encode
from kiosk.contract.commands import MAX_HELD
from kiosk.contract.events import RepDone, SessionEnd, SessionStart
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from kiosk.core.site.event_journal import _open
from kiosk.core.usage_counts import resume_usage

SECTION = "## Usage counted again at start"


def fill(path: Path, events: int, now: float) -> None:
    """A journal of `events` rows over 8 days: sessions of 10 reps, all but the oldest ended without reps."""
    db = _open(path)
    rows, eid, ts = [], 0, now - 8 * 86_400
    step = 8 * 86_400 / events
    while eid < events:
        session = f"s{eid}"
        body = [SessionStart(ts=ts, session=session, member="m_sam", role="member")]
        body += [RepDone(ts=ts, session=session, rep=r, depth_mm=250.0, eccentric_s=2.0, concentric_s=1.0)
                 for r in range(1, 11)]
        body.append(SessionEnd(ts=ts, session=session, reason="logout", sets=1, reps=10 if eid == 0 else 0,
                               member="m_sam", liftoffs=1))
        for event in body:
            eid += 1
            rows.append((eid, ts, encode(event.model_copy(update={"eid": eid})), 1))
            ts += step
    with db:
        db.executemany("INSERT INTO events (eid, created, body, delivered) VALUES (?, ?, ?, ?)", rows[:events])
    db.close()


def timed(run: int, data: Path) -> tuple[float, float]:
    settings = load_settings(site="bench", machine=f"lp{run}", broker="mqtt://127.0.0.1:1", data_dir=data)
    kiosk = Kiosk(settings)
    start = time.perf_counter()
    kiosk.events.start()
    journal_s = time.perf_counter() - start
    start = time.perf_counter()
    resume_usage(kiosk.events, kiosk.training.usage, kiosk.clock.now())  # as `Kiosk.start` posts it
    resume_s = time.perf_counter() - start
    sessions, rate = kiosk.usage_today(kiosk.clock.now())
    assert rate == 10.0, "the oldest session's rate, found past every other row"
    kiosk.events.stop()
    return journal_s, resume_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=MAX_HELD)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, metavar="MD", help="update this markdown file's section")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        fill(data / "journal.sqlite3", args.events, time.time())
        results = [timed(run, data) for run in range(args.runs)]
    journal = statistics.median(r[0] for r in results)
    resume = statistics.median(r[1] for r in results)
    section = f"""{SECTION}

`bench/bench_usage_resume.py`: a journal of {args.events:,} events (its bound) whose only session with reps is
its oldest, the worst case; median of {args.runs} starts on {platform.machine()}, Python {platform.python_version()}.

| step at start | median |
|---|---|
| the journal's own start (baseline) | {journal * 1000:.1f} ms |
| sessions today and the last rate, counted again | {resume * 1000:.1f} ms |
| ratio | {resume / journal:.1f}x |
"""
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
