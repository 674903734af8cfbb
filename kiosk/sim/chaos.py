"""What a broken or hostile network does to a clean trace: garbage, repeats, reordering, a sensor reboot."""

import random
from dataclasses import dataclass

from kiosk.contract import MAX_PAYLOAD_BYTES
from kiosk.contract.base import encode
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.sim.items import TraceItem

# Payloads no decoder may accept, each for its own reason.
MALFORMED_DEPTH = (
    b"",
    b"   ",
    b"null",
    b"[1, 2, 3]",
    b"not json at all",
    b'{"seq": 1, "ts": ',
    b'{"seq": -1, "ts": 1764000000.0, "mm": 100.0}',
    b'{"seq": "7", "ts": 1764000000.0, "mm": 100.0}',
    b'{"seq": 7, "ts": 1e999, "mm": 100.0}',
    b'{"seq": 7, "ts": 1764000000.0, "mm": NaN}',
    b'{"seq": 7, "ts": 1764000000.0}',
    b'{"seq": 7.5, "ts": 1764000000.0, "mm": 100.0}',
    b'{"seq": 7, "ts": 1764000000.0, "mm": 99999}',
    b"\xff\xfe\x00garbage\x80",
    b'{"a":' * 5000,
    b'{"seq": 7, "ts": 1764000000.0, "mm": 100.0, "pad": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}',
)
MALFORMED_EVENT = (
    b'{"seq": 3, "ts": 1764000000.0, "type": "liftoff", "zone": "knee", "state": "start"}',
    b'{"seq": 3, "ts": 1764000000.0, "type": "liftoff", "zone": "lumbar", "state": "maybe"}',
    b'{"seq": 3, "ts": 1764000000.0, "type": "explode", "zone": "lumbar", "state": "start"}',
)
EPSILON_S = 1e-4  # sends a repeat or a late message just after its neighbour


@dataclass(frozen=True)
class Havoc:
    """How much of each kind of damage `wreck` did; a correct receiver counts exactly this."""

    duplicates: int = 0
    out_of_order: int = 0
    out_of_range: int = 0
    malformed: int = 0
    restarts: int = 0
    unknown_fields: int = 0


def wreck(depth: list[TraceItem], events: list[TraceItem],
          rng: random.Random) -> tuple[list[TraceItem], list[TraceItem], Havoc]:
    """Damage a clean depth stream (and add to the event stream); the reps in it stay countable.

    Damaged places are at least six samples apart so that each one is
    counted as exactly one kind of damage.
    """
    samples = [DepthSample.model_validate_json(item.payload) for item in depth]
    slots = list(range(20, len(samples) - 20, 6))
    rng.shuffle(slots)
    repeat, late, wild, odd = (set(slots[k * 8:(k + 1) * 8]) for k in range(4))
    reboot = slots[32]
    base = samples[reboot].seq
    out: list[TraceItem] = []
    for i, (item, sample) in enumerate(zip(depth, samples, strict=False)):
        changes: dict[str, int | float] = {}
        if i >= reboot:
            changes["seq"] = sample.seq - base
        if i in wild:
            changes["mm"] = rng.choice((-150.0, 800.0, 1999.0))
        sample = sample.model_copy(update=changes)
        payload = encode(sample)
        if i in odd:
            payload = encode(DepthSample(seq=sample.seq, ts=sample.ts, mm=sample.mm, firmware_note="hello"))
        out.append(TraceItem(item.ts, "depth", payload))
        if i in repeat:
            out.append(TraceItem(item.ts + EPSILON_S, "depth", payload))
    for i in sorted(late, reverse=True):
        # Delivered after the next sample; indexes shift by the repeats before it.
        j = i + sum(1 for r in repeat if r < i)
        mine, nxt = out[j], out[j + 1]
        out[j], out[j + 1] = (TraceItem(mine.ts, "depth", nxt.payload),
                              TraceItem(nxt.ts + EPSILON_S, "depth", mine.payload))
    at = [depth[rng.randrange(len(depth))].ts + EPSILON_S for _ in MALFORMED_DEPTH + MALFORMED_EVENT]
    out += [TraceItem(t, "depth", p) for t, p in zip(at, MALFORMED_DEPTH, strict=False)]
    garbage_events = [TraceItem(t, "event", p)
                      for t, p in zip(at[len(MALFORMED_DEPTH):], MALFORMED_EVENT, strict=False)]
    # A lone 'end' with no 'start' before it is valid and must not raise a cue.
    stray = LiftoffEvent(seq=0, ts=round(depth[len(depth) // 2].ts, 4), type="liftoff", zone="pelvis", state="end")
    garbage_events.append(TraceItem(depth[len(depth) // 2].ts + EPSILON_S, "event", encode(stray)))
    havoc = Havoc(duplicates=len(repeat), out_of_order=len(late), out_of_range=len(wild),
                  malformed=len(MALFORMED_DEPTH) + len(MALFORMED_EVENT), restarts=1, unknown_fields=len(odd))
    return out, events + garbage_events, havoc
