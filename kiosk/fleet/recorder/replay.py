"""The recorder asks kiosks for the events it missed: `replay` for every gap in a kiosk's `eid`.

Events go missing when the recorder's session outlived its expiry, a bridge or
broker dropped what it queued, or a kiosk's own queue overflowed. The eids
stored (and the ranges already recorded as lost) say where: the store computes
the gaps in SQL, so they survive a recorder restart. A gap at the end (the
kiosk's telemetry names a newer `last_eid` than the record holds) counts too;
eids below a kiosk's first stored one do not: the record of a kiosk starts at
the first event the recorder kept of it.

A gap must stay the same for `grace_s` before it is asked for: a kiosk that is
redelivering after a reconnect fills it meanwhile, and each event that arrives
changes the gap, which starts the wait again. Then one `replay` per kiosk is in
flight, at most `max_per_request` eids, with an MQTT v5 Response Topic under
that kiosk's own `R/kiosk/res/` (the only replies its ACL lets it publish) and
the transaction as Correlation Data. Replayed events arrive as events and are
stored once by their identity; the reply's `missing` ranges are recorded as
lost, which closes those gaps for good. A request without an answer is sent
again, each wait twice the one before; after `max_tries` sends for one range
it is given up for `PARK_S` (logged), so a kiosk that is gone costs a few
messages an hour, not a stream.

Everything here runs on the recorder's writer thread, which owns the store;
replies are decoded on the network thread (`decode_reply`) and handed over in
order with the other messages.
"""

import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from kiosk.contract.base import encode
from kiosk.contract.commands import MAX_HELD, CommandReply, Replay
from kiosk.contract.events import MAX_SAFE_INT
from kiosk.contract.replies import Replayed
from kiosk.contract.topics import MachineTopics, parse
from kiosk.fleet.recorder.intake import EventRow, LostRange, Refused, Row, TelemetryRow
from kiosk.fleet.recorder.store import Gap, Store

log = logging.getLogger(__name__)

GRACE_S = 10.0
CHECK_EVERY_S = 2.0
MAX_PER_REQUEST = 1000  # well under the kiosk's own cap per reply (5,000)
REPLY_TIMEOUT_S = 10.0
MAX_TRIES = 5
PARK_S = 3600.0
# Transactions still matched when their reply comes late (the kiosk was away and its session kept the request).
REMEMBERED = 1000


@dataclass(frozen=True)
class ReplayAnswer:
    """A decoded reply to a `replay`: which machine answered, to which transaction, and what it said."""

    machine: str
    transaction: str
    replayed: Replayed | None  # None: the kiosk answered `error`
    error: str | None = None


def decode_reply(topic: str, payload: bytes, correlation: bytes | None) -> ReplayAnswer:
    """The reply on `R/kiosk/res/replay`, or `Refused` when it does not fit the contract."""
    parsed = parse(topic)
    if parsed is None or parsed.kind != "kiosk_res" or parsed.name != "replay" or parsed.machine is None:
        raise Refused("foreign_topic", f"{topic!r} is not a replay reply")
    try:
        reply = CommandReply.model_validate_json(payload)
        replayed = Replayed.model_validate(reply.data) if reply.status == "ok" else None
    except ValidationError as exc:
        raise Refused("replay_reply_invalid", f"{topic}: not a replay reply ({exc.error_count()} errors)") from None
    if correlation is not None and correlation != reply.transaction.encode():
        raise Refused("replay_reply_invalid", f"{topic}: correlation data does not match the transaction")
    if replayed is not None and (replayed.sent < 0 or any(r.to_eid < r.from_eid for r in replayed.missing)):
        raise Refused("replay_reply_invalid", f"{topic}: a negative count or a backwards range")
    return ReplayAnswer(parsed.machine, reply.transaction, replayed, reply.error)


@dataclass
class _Asked:
    machine: str
    from_eid: int
    to_eid: int


@dataclass
class _InFlight:
    asked: _Asked
    transaction: str
    deadline: float


class GapWatch:
    """Finds each kiosk's eid gaps in the store and asks the kiosk to replay them, one request per kiosk."""

    def __init__(self, store: Store, site: str, send: Callable[[str, bytes, Properties], None],
                 grace_s: float = GRACE_S, check_every_s: float = CHECK_EVERY_S,
                 max_per_request: int = MAX_PER_REQUEST, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 max_tries: int = MAX_TRIES, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time):
        if max_per_request < 1 or max_tries < 1:
            raise ValueError("max_per_request and max_tries must be at least 1")
        self.store = store
        self.site = site
        self.send = send
        self.grace_s = grace_s
        self.check_every_s = check_every_s
        self.max_per_request = max_per_request
        self.reply_timeout_s = reply_timeout_s
        self.max_tries = max_tries
        self.clock = clock
        self.wall_clock = wall_clock
        self.requests = 0
        self.answers = 0
        self.gave_up = 0
        # Gap checks run (each a scan, then the requests due): what a test waits on to know a gap had its
        # chance to be asked for, and what shows the watch is alive.
        self.checks = 0
        self._next_check = 0.0
        self._full_scan = True  # the first scan reads every machine: the store may hold gaps from before
        self._floors: dict[str, int] = {}  # per machine, an eid below which nothing is missing
        self._dirty: set[str] = set()
        self._claimed: dict[str, tuple[float, int]] = {}  # each kiosk's newest telemetry: its ts and last eid
        self._went_back: set[str] = set()
        self._open: dict[str, list[Gap]] = {}
        self._first_seen: dict[tuple[str, int, int], float] = {}
        self._hurry: set[str] = set()
        self._in_flight: dict[str, _InFlight] = {}
        self._tries: dict[tuple[str, int, int], int] = {}
        self._parked: dict[tuple[str, int, int], float] = {}
        self._transactions: OrderedDict[str, _Asked] = OrderedDict()

    # -- what the writer thread hands over -------------------------------------------------

    def lost_rows(self, answers: Sequence[ReplayAnswer]) -> list[Row]:
        """The ranges these answers say are gone, clipped to what was asked, to store with the batch."""
        rows: list[Row] = []
        now = self.wall_clock()
        for answer in answers:
            asked = self._transactions.get(answer.transaction)
            if asked is None or asked.machine != answer.machine or answer.replayed is None:
                continue
            for r in answer.replayed.missing:
                lo, hi = max(r.from_eid, asked.from_eid), min(r.to_eid, asked.to_eid)
                if lo <= hi:
                    rows.append(LostRange(self.site, asked.machine, lo, hi, now))
        return rows

    def stored(self, rows: Sequence[Row], answers: Sequence[ReplayAnswer]) -> None:
        """After a batch is stored: note the machines whose eids changed, and settle the answered requests."""
        for row in rows:
            if isinstance(row, EventRow) and row.eid is not None:
                self._dirty.add(row.machine)
            elif isinstance(row, TelemetryRow) and row.last_eid is not None:
                self._telemetry(row.machine, row.ts, row.last_eid)
        for answer in answers:
            self._answered(answer)

    def _telemetry(self, machine: str, ts: float, last_eid: int) -> None:
        previous = self._claimed.get(machine)
        if previous is not None and ts <= previous[0]:
            return  # an older sample, delivered late: it says nothing new
        if previous is not None and last_eid < previous[1] and machine not in self._went_back:
            # Compared sample to sample, not to the record: events newer than a sample routinely
            # arrive before the scan that reads it.
            self._went_back.add(machine)
            log.error("kiosk %s's last eid went back from %d to %d: its eid series started again (data folder "
                      "wiped or replaced?); events reusing stored eids are kept by their content", machine,
                      previous[1], last_eid)
        self._claimed[machine] = (ts, last_eid)
        self._dirty.add(machine)

    def _answered(self, answer: ReplayAnswer) -> None:
        asked = self._transactions.get(answer.transaction)
        if asked is None:
            # An operator's own `legpress-fleet command replay`, or one from before a restart: its events
            # are stored as they come, and the gap scan sees what is still missing.
            log.debug("a replay reply from %s not asked by this recorder (%s)", answer.machine, answer.transaction)
            return
        if asked.machine != answer.machine:
            log.warning("kiosk %s answered a replay asked of %s; ignored", answer.machine, asked.machine)
            return
        self.answers += 1
        self._dirty.add(asked.machine)
        current = self._in_flight.get(asked.machine)
        if current is not None and (current.asked.from_eid, current.asked.to_eid) == (asked.from_eid, asked.to_eid):
            del self._in_flight[asked.machine]
        if answer.replayed is None:
            log.warning("kiosk %s refused the replay of events %d..%d: %s", asked.machine, asked.from_eid,
                        asked.to_eid, answer.error)
            return
        replayed = answer.replayed
        if replayed.retry_after_s is not None:
            # Held back by the kiosk (its replay rate, or a repeat): the next gap scan asks again, no sooner.
            log.info("kiosk %s held back the replay of %d..%d; asking again later", asked.machine,
                     asked.from_eid, asked.to_eid)
            return
        if replayed.truncated_at is None and replayed.sent == 0:
            # All of it gone (older than the kiosk keeps): the rest of a long gap is asked for at once.
            self._hurry.add(asked.machine)
        log.info("kiosk %s replayed %d events of %d..%d", asked.machine, replayed.sent, asked.from_eid,
                 asked.to_eid)
        skipped = [(r.from_eid, r.to_eid) for r in replayed.skipped]
        for r in replayed.missing:
            lo, hi = max(r.from_eid, asked.from_eid), min(r.to_eid, asked.to_eid)
            if lo > hi:
                continue
            if any(a <= lo and hi <= b for a, b in skipped):
                log.info("kiosk %s skipped eids %d..%d when it started after a power cut: never used, or only "
                         "what this record already holds", asked.machine, lo, hi)
            else:
                log.warning("kiosk %s no longer holds events %d..%d (%d events): recorded as lost", asked.machine,
                            lo, hi, hi - lo + 1)
        if replayed.truncated_at is not None:
            # The kiosk cut the reply short: the rest of the range is asked for at once, not after a grace period.
            self._hurry.add(asked.machine)

    # -- the periodic work -----------------------------------------------------------------

    def tick(self, connected: bool) -> None:
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.check_every_s
        self._scan(now)
        if connected:
            self._ask(now)
        self.checks += 1

    def _scan(self, now: float) -> None:
        if self._full_scan:
            spans = self.store.gaps(self.site)
            self._full_scan = False
        else:
            machines = self._dirty | set(self._open)
            if not machines:
                return
            spans = self.store.gaps(self.site, {m: self._floors.get(m, 0) for m in machines})
        self._dirty.clear()
        beyond: list[Row] = []
        for machine, span in spans.items():
            found = list(span.gaps)
            claimed = min(self._claimed[machine][1], MAX_SAFE_INT) if machine in self._claimed else None
            if claimed is not None and claimed > span.highest:
                found.append(Gap(machine, span.highest + 1, claimed))
            # From the gap as found, not as trimmed below: should storing the part out of reach fail,
            # the next scan still sees it.
            self._floors[machine] = found[0].from_eid - 1 if found else span.highest
            gaps = [self._within_reach(gap, beyond) for gap in found]
            if gaps:
                self._open[machine] = gaps
            else:
                self._open.pop(machine, None)
        if beyond:
            self.store.add(beyond)
        # A request whose gap closed meanwhile (redelivery came after all) no longer holds its kiosk's turn;
        # its reply, should it come, is still matched by its transaction.
        for machine in [m for m in self._in_flight if m not in self._open]:
            del self._in_flight[machine]
        current = {(g.machine, g.from_eid, g.to_eid) for gaps in self._open.values() for g in gaps}
        self._first_seen = {key: self._first_seen.get(key, now) for key in current}
        # Tries count per range asked; a range whose gap closed or changed starts again from none.
        starts = {(machine, from_eid) for machine, from_eid, _ in current}
        self._tries = {key: n for key, n in self._tries.items() if key[:2] in starts}
        for key in [k for k, until in self._parked.items() if until <= now]:
            del self._parked[key]

    def _within_reach(self, gap: Gap, lost: list[Row]) -> Gap:
        """`gap`, less what no kiosk can still hold: its journal keeps at most its newest `MAX_HELD` events.

        The eid after the gap is the kiosk's (stored, or named by its telemetry), so
        anything `MAX_HELD` or more below it is gone: recorded as lost without asking,
        so a hostile or broken eid far ahead costs one row, not endless requests.
        """
        top = gap.to_eid + 1
        if top - gap.from_eid <= MAX_HELD:
            return gap
        gone = LostRange(self.site, gap.machine, gap.from_eid, top - MAX_HELD - 1, self.wall_clock())
        lost.append(gone)
        log.warning("kiosk %s: events %d..%d are more than its journal holds (%d) below eid %d: recorded as lost "
                    "without asking", gap.machine, gone.from_eid, gone.to_eid, MAX_HELD, top)
        return Gap(gap.machine, top - MAX_HELD, gap.to_eid)

    def _ask(self, now: float) -> None:
        for machine, gaps in self._open.items():
            flight = self._in_flight.get(machine)
            if flight is not None:
                if now < flight.deadline:
                    continue
                del self._in_flight[machine]
                tries = self._tries.get((machine, flight.asked.from_eid, flight.asked.to_eid), 0)
                log.warning("kiosk %s did not answer the replay of events %d..%d in time (try %d of %d)", machine,
                            flight.asked.from_eid, flight.asked.to_eid, tries, self.max_tries)
            for gap in gaps:
                if self._request(machine, gap, now):
                    break

    def _request(self, machine: str, gap: Gap, now: float) -> bool:
        """Ask for the start of `gap` if it is due; True when a request went out."""
        key = (machine, gap.from_eid, gap.to_eid)
        if machine not in self._hurry and now - self._first_seen.get(key, now) < self.grace_s:
            return False
        if gap.from_eid > MAX_SAFE_INT:
            return False  # beyond what the contract lets a command name: nothing any kiosk can replay
        asked = _Asked(machine, gap.from_eid, min(gap.to_eid, gap.from_eid + self.max_per_request - 1, MAX_SAFE_INT))
        range_key = (machine, asked.from_eid, asked.to_eid)
        if range_key in self._parked:
            return False
        tries = self._tries.get(range_key, 0)
        if tries >= self.max_tries:
            self._tries.pop(range_key)
            self._parked[range_key] = now + PARK_S
            self.gave_up += 1
            log.error("kiosk %s never filled events %d..%d after %d replay requests; giving up on them for %d min",
                      machine, asked.from_eid, asked.to_eid, tries, PARK_S // 60)
            return False
        self._hurry.discard(machine)
        self._tries[range_key] = tries + 1
        transaction = f"recorder-{uuid.uuid4().hex}"
        self._transactions[transaction] = asked
        while len(self._transactions) > REMEMBERED:
            self._transactions.popitem(last=False)
        wait = self.reply_timeout_s * 2 ** tries
        self._in_flight[machine] = _InFlight(asked, transaction, now + wait)
        topics = MachineTopics(self.site, machine)
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = topics.res("replay")
        props.CorrelationData = transaction.encode()
        # A request the kiosk gets long after it was sent would only repeat a later one.
        props.MessageExpiryInterval = max(1, int(wait))
        request = Replay(transaction=transaction, from_eid=asked.from_eid, to_eid=asked.to_eid)
        log.info("kiosk %s: events %d..%d missing for %.0f s; asking it to replay them (try %d of %d)", machine,
                 asked.from_eid, asked.to_eid, now - self._first_seen.get(key, now), tries + 1, self.max_tries)
        self.requests += 1
        self.send(topics.cmd("replay"), encode(request), props)
        return True
