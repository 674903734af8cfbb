"""`replay` as a lever (issue 20, item 10), on a rendered site with a real kiosk process: a storm of replay
requests from the recorder's login (20 a second, up to 600, full ranges, sliding ranges and requesters that
rename themselves) while the member's set has two lumbar lift-offs. The warning and the stop still come,
the storm costs them no more than a loose multiple of the same set without it (both runs in this test,
on one machine, so the ratio holds where an absolute time would not), each event is sent again at most
once per window, and the kiosk counts what it held back by reason where operators look.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.contract.base import encode
from kiosk.contract.events import ScanRejected
from kiosk.core.site import replay_limits
from kiosk.core.site.event_journal import _open as open_journal
from tests.support.broker_gym import Gym, machine_root
from tests.support.set_at_kiosk import REPLAYED, diagnostics, kiosk_in_session, liftoff_to_cue, play, set_end

MACHINE = "lp-1"
R = machine_root(MACHINE)
# Events the kiosk already holds: a few busy days, so every full-range request has thousands to send.
HELD = 3_000
STORM_PER_S = 20.0
STORM_MAX = 600
# The storm may make a cue later than the quiet set's by at most this factor. Below NOISE_S a quiet cue's
# time is the scheduler's noise on this shared machine, not the kiosk's: the ratio is taken from there.
WITHIN_RATIO = 10.0
NOISE_S = 0.02


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gym]:
    g = Gym(tmp_path_factory.mktemp("replay-storm"), machines=(MACHINE,))
    assert g.render() == 0
    g.add_observer(MACHINE)
    g.start("site")
    g.start(MACHINE)
    yield g
    g.close()


def journal_with_history(data_dir: Path) -> Path:
    """A kiosk's data folder whose journal already holds HELD delivered events (eids 1..HELD)."""
    db = open_journal(data_dir / "journal.sqlite3")
    start = time.time() - 86_400
    with db:
        db.executemany("INSERT INTO events (eid, created, body, delivered) VALUES (?, ?, ?, 1)",
                       [(eid, start + eid, encode(ScanRejected(ts=start + eid, reason="malformed", eid=eid)))
                        for eid in range(1, HELD + 1)])
    db.close()
    return data_dir


class Storm:
    """The recorder's login on the site broker asking lp-1 to replay, paced at STORM_PER_S until stopped."""

    def __init__(self, gym: Gym):
        self.requester = gym.peer("recorder", "site-local")
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Storm":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.requester.close()

    def _run(self) -> None:
        began = time.monotonic()
        while self.sent < STORM_MAX and not self._stop.is_set():
            n = self.sent
            if n % 3 == 0:  # the same full range again and again, as the recorder's login once did
                ask = (f"recorder-{n:06d}", 1, 5_000)
            elif n % 3 == 1:  # ranges sliding over the journal, overlapping each other
                lo = 1 + (n * 37) % HELD
                ask = (f"recorder-{n:06d}", lo, lo + 1_000)
            else:  # a requester naming itself anew each time
                ask = (f"x{n}-{n:06d}", 1, 5_000)
            payload = f'{{"transaction": "{ask[0]}", "from_eid": {ask[1]}, "to_eid": {ask[2]}}}'
            self.requester.send(f"{R}/kiosk/cmd/replay", payload.encode())
            self.sent += 1
            # Paced, not waiting for anything: a load generator's beat.
            self._stop.wait(max(0.0, began + self.sent / STORM_PER_S - time.monotonic()))


def test_a_replay_storm_during_a_set_neither_loses_nor_delays_the_warning_and_the_stop(gym, tmp_path):
    quiet_dir, storm_dir = tmp_path / "quiet", tmp_path / "storm"
    quiet_dir.mkdir()
    storm_dir.mkdir()
    with kiosk_in_session(gym, MACHINE, quiet_dir, journal_with_history(quiet_dir / "data")) as collector:
        play(gym, MACHINE, "none")
        quiet = liftoff_to_cue(collector)
        assert [severity for severity, _ in quiet] == ["warn", "stop"]

    with kiosk_in_session(gym, MACHINE, storm_dir, journal_with_history(storm_dir / "data")) as collector:
        with Storm(gym) as storm:
            play(gym, MACHINE, "none")
            stormy = liftoff_to_cue(collector)
        sent = storm.sent
        ended = set_end(collector)
        journal = diagnostics(gym, MACHINE)["telemetry"]["journal"]
        copies = [m for m in list(collector.received.items) if REPLAYED in m.payload]

    print(f"{sent} replay requests; cues quiet {quiet}, under the storm {stormy}; {len(copies)} copies; "
          f"refused {journal['replays_refused']}")
    assert [severity for severity, _ in stormy] == ["warn", "stop"]
    assert ended["stopped"] is True and ended["liftoffs"] == 2
    for (severity, calm), (_, loud) in zip(quiet, stormy, strict=True):
        assert loud <= WITHIN_RATIO * max(calm, NOISE_S), (
            f"{severity}: {loud * 1000:.0f} ms under the storm, {calm * 1000:.0f} ms without it")
    assert sent >= 100, "the storm ran through the set"
    assert copies, "the storm's first requests were served"

    # Each event at most once per window, whoever asked and however the ranges overlapped.
    times: dict[bytes, list[float]] = defaultdict(list)
    for m in copies:
        times[m.payload.split(b'"eid":', 1)[1].split(b",", 1)[0]].append(m.at)
    # The window is taken on the kiosk's clock and seen here: a copy's way to the broker may vary by a little.
    closest = min((b - a for at in times.values() for a, b in zip(at, at[1:], strict=False)), default=None)
    assert closest is None or closest > replay_limits.REPEAT_S - 1.0, f"an event replayed again after {closest} s"
    assert len(copies) < sent * 50, "most of the storm was held back, not served"

    # Operators see what was held back, and why.
    refused = journal["replays_refused"]
    assert refused.get("repeat", 0) > sent // 3, refused
    assert journal["replays_held_back"] == sum(n for reason, n in refused.items() if reason != "yielded")
