"""How much a `replay` request may send: the kiosk's guard against `replay` used as a lever.

A replayed event shares the kiosk's one link with live cues, and every copy
crosses the bridge to the site. Left alone, 600 full-range requests (20 a
second, from the recorder's login) once delayed a warning at the site by 1.3 s
and a stop by 2.7 s, and sent the same events six times. So, for each request:

- **Each event at most once per window.** Replayed events go out on the
  kiosk's shared `R/kiosk/event`, so whoever asks again within
  `REPEAT_S` of a copy already had it there. A request whose first eid was
  replayed in the window is held back until that copy is out of it; one that
  runs into such a range is cut short before it (`truncated_at`), never
  skipped over: the reply's `missing` means "gone", and a requester records
  it as lost.
- **Per requester, then per kiosk.** MQTT does not say who published, so the
  requester is who the request says it is: its Response Topic and the name
  its transaction starts with (`recorder-<uuid>` is `recorder`; a bare uuid is
  nobody in particular). Each has its own budget, so one noisy requester does
  not use up another's; a requester naming itself anew each time gains nothing
  past the kiosk's own budget, which all share, and past `MAX_REQUESTERS`
  names the least recently seen is forgotten.
- **A bounded share of the link.** The kiosk sends a request no more events
  than leave `IN_FLIGHT` replayed copies unacknowledged, so a cue published
  after a replay waits behind at most that many messages in paho's queue,
  not behind thousands (the journal enforces it; a full link holds the
  request back as `busy`).

Every request held back or cut short by a limit is counted by its reason
(`JournalHealth.replays_refused`, in telemetry and diagnostics).
"""

import re
from collections import OrderedDict
from dataclasses import dataclass

# Per request, whatever the budgets (docs/security.md: a kiosk's reply is capped at 5,000 events).
REPLAY_MAX = 5_000
# One requester's budget: events a second on average, and the burst it may take at once.
REQUESTER_EVENTS_PER_S = 200.0
REQUESTER_BURST = 1_000.0
# Every requester together: a requester that renames itself each time gets no more than this.
KIOSK_EVENTS_PER_S = 400.0
KIOSK_BURST = 2_000.0
# A replayed eid is not sent again within this many seconds, whoever asks.
REPEAT_S = 10.0
# Replayed copies handed to paho and not yet acknowledged: what a cue may have to wait behind.
IN_FLIGHT = 250
# Requesters whose budgets are remembered; past it the one seen longest ago starts afresh.
MAX_REQUESTERS = 32
# A link still full of replayed copies: ask again after this long.
BUSY_RETRY_S = 0.5

REASONS = ("repeat", "requester_rate", "kiosk_rate", "busy", "yielded")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def requester_of(response_topic: str | None, transaction: str) -> str:
    """Who a request says it comes from: its Response Topic and the name its transaction starts with."""
    head = transaction.split("-", 1)[0] if "-" in transaction else ""
    name = head if _NAME.fullmatch(head) else ""
    return f"{(response_topic or '')[:200]}|{name}"


@dataclass
class _Bucket:
    rate: float
    burst: float
    tokens: float
    at: float

    def refill(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = now
        return self.tokens

    def wait_for_one(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate)


@dataclass(frozen=True)
class Admission:
    """What a request may have: at most `allowed` events, none above `upto`; else why not and when to ask."""

    allowed: int
    upto: int
    retry_after_s: float | None = None
    reason: str | None = None


class ReplayLimits:
    """The budgets and the recently replayed ranges; used on the core thread only."""

    def __init__(self) -> None:
        self._kiosk = _Bucket(KIOSK_EVENTS_PER_S, KIOSK_BURST, KIOSK_BURST, 0.0)
        self._requesters: OrderedDict[str, _Bucket] = OrderedDict()
        self._recent: list[tuple[int, int, float]] = []  # (from_eid, to_eid, when) replayed within REPEAT_S
        self.refused: dict[str, int] = {}

    def admit(self, requester: str, from_eid: int, to_eid: int, now: float, room: int) -> Admission:
        """How much of `from_eid..to_eid` this request may have now; `room`: copies the link may still take."""
        self._recent = [r for r in self._recent if 0 <= now - r[2] < REPEAT_S]
        covering = [when for lo, hi, when in self._recent if lo <= from_eid <= hi]
        if covering:
            return self._refuse("repeat", REPEAT_S - (now - min(covering)))
        upto = min([to_eid] + [lo - 1 for lo, _, _ in self._recent if from_eid < lo <= to_eid])
        own = self._bucket(requester, now)
        if own.refill(now) < 1:
            return self._refuse("requester_rate", own.wait_for_one())
        if self._kiosk.refill(now) < 1:
            return self._refuse("kiosk_rate", self._kiosk.wait_for_one())
        if room < 1:
            return self._refuse("busy", BUSY_RETRY_S)
        return Admission(allowed=int(min(REPLAY_MAX, own.tokens, self._kiosk.tokens, room)), upto=upto)

    def served(self, requester: str, from_eid: int, last_eid: int, sent: int, now: float) -> None:
        """A request sent `sent` copies of `from_eid..last_eid`: charge them, and hold the range for REPEAT_S.

        A request that found nothing still costs one: the journal was read for it."""
        cost = max(1, sent)
        self._bucket(requester, now).tokens -= cost
        self._kiosk.tokens -= cost
        if last_eid >= from_eid:
            self._recent.append((from_eid, last_eid, now))

    def count(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1

    def _refuse(self, reason: str, retry_after_s: float) -> Admission:
        self.count(reason)
        return Admission(allowed=0, upto=0, retry_after_s=max(0.001, retry_after_s), reason=reason)

    def _bucket(self, requester: str, now: float) -> _Bucket:
        bucket = self._requesters.get(requester)
        if bucket is None:
            bucket = self._requesters[requester] = _Bucket(REQUESTER_EVENTS_PER_S, REQUESTER_BURST,
                                                            REQUESTER_BURST, now)
            while len(self._requesters) > MAX_REQUESTERS:
                self._requesters.popitem(last=False)
        self._requesters.move_to_end(requester)
        return bucket
