"""One member's part of the recorder's store: found for an export, taken out for an erasure.

A member's events are every event of the sessions they started (a rep or a
set names no member, its session does) and every event naming them outside
one (a pain report or an alert with no session open). Their profile revisions
are theirs alone; an erasure tombstone names them.

Erasing keeps the machines' figures: the events stay, with the member's id
replaced by a pseudonym in the `member` column and everywhere in the payload.
The pseudonym is random, drawn once per erasure and kept nowhere, so nothing
(not the store, not its operator) can lead back from it to the id; it is the
same on all of that member's rows, so distinct members per day still count
them once. Copies of their events that come after the erasure (a kiosk's
journal, a replay) go under a pseudonym as they are stored (erased_members.py).
Their profile revisions (settings, visit history) are deleted: no report
counts them. Tombstones keep who erased and when, under the pseudonym.
"""

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.contract.ids import check_id
from kiosk.fleet.recorder.erased_members import PSEUDONYM_PREFIX, new_pseudonym, remember, renamed_payload, renamer
from kiosk.fleet.recorder.store import Store

__all__ = ["PSEUDONYM_PREFIX", "Erased", "MemberRecord", "StoredEvent", "erase_member_record", "member_record"]

_THEIR_EVENTS = """
SELECT e.id, e.machine, e.session, e.type, e.ts, e.member, e.payload FROM events e
WHERE e.site = ? AND (
    e.member = ?
    OR EXISTS (SELECT 1 FROM events st WHERE st.site = e.site AND st.machine = e.machine AND st.session = e.session
               AND st.type = 'session_start' AND st.member = ?)
    OR e.payload LIKE ? ESCAPE '!')
ORDER BY e.ts, e.id
"""


@dataclass(frozen=True)
class StoredEvent:
    """One event as the recorder keeps it: the machine it came from and the payload as the kiosk sent it."""

    machine: str
    session: str | None
    type: str
    ts: float
    payload: dict[str, Any]


@dataclass
class MemberRecord:
    """Everything the store holds about one member: their events in time order, their profile revisions."""

    events: list[StoredEvent] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    erasures: int = 0

    @property
    def sessions(self) -> list[tuple[str, str]]:
        """(machine, session) of each of their sessions, in the order they started."""
        return [(e.machine, e.session) for e in self.events if e.type == "session_start" and e.session is not None]


@dataclass(frozen=True)
class Erased:
    """What an erasure took out of the store, to print."""

    pseudonym: str
    sessions: int
    events: int
    revisions: int
    tombstones: int

    def __bool__(self) -> bool:
        return bool(self.events or self.revisions or self.tombstones)


def member_record(store: Store, site: str, member: str) -> MemberRecord:
    """Every event of the member's sessions and every one naming them, and their profile revisions."""
    check_id(member, "member")
    record = MemberRecord()
    for _id, machine, session, kind, ts, _named, payload in _theirs(
            store.read(_THEIR_EVENTS, _event_params(site, member)), member):
        record.events.append(StoredEvent(str(machine), session, str(kind), float(ts), _loaded(payload)))
    for rev, updated, received_at, machines in store.read(
            "SELECT rev, updated, received_at, machines FROM profiles WHERE site = ? AND member = ? ORDER BY rev",
            (site, member)):
        record.revisions.append({"rev": int(rev), "updated": float(updated), "received_at": float(received_at),
                                 "machines": _loaded(machines)})
    record.erasures = int(store.read("SELECT COUNT(*) FROM profile_erasures WHERE site = ? AND member = ?",
                                     (site, member))[0][0])
    return record


def erase_member_record(store: Store, site: str, member: str) -> Erased:
    """Take the member out of the store in one transaction; see the module's docstring for what stays."""
    check_id(member, "member")
    pseudonym = new_pseudonym()
    rename = renamer(member, pseudonym)
    erased_at = time.time()

    def erase(cursor: Any, sql: Callable[[str], str]) -> Erased:
        cursor.execute(sql(_THEIR_EVENTS), _event_params(site, member))
        theirs = list(_theirs(cursor.fetchall(), member))
        sessions = {(r[1], r[2]) for r in theirs if r[3] == "session_start" and r[5] == member}
        cursor.executemany(sql("UPDATE events SET member = ?, payload = ? WHERE id = ?"),
                           [(pseudonym if named == member else named, renamed_payload(payload, rename), row_id)
                            for row_id, _machine, _session, _kind, _ts, named, payload in theirs])
        cursor.execute(sql("DELETE FROM profiles WHERE site = ? AND member = ?"), (site, member))
        revisions = max(cursor.rowcount, 0)
        cursor.execute(sql("UPDATE profile_erasures SET member = ? WHERE site = ? AND member = ?"),
                       (pseudonym, site, member))
        tombstones = max(cursor.rowcount, 0)
        # Even when the store held nothing of theirs yet: an offline kiosk's journal may bring it later.
        remember(cursor, sql, site, member, erased_at)
        return Erased(pseudonym, len(sessions), len(theirs), revisions, tombstones)

    return store.run(erase)


def _event_params(site: str, member: str) -> tuple[str, ...]:
    # LIKE narrows the payloads to look at; `_theirs` decides. Ids may hold '_', a LIKE wildcard: escaped.
    pattern = "%" + member.replace("!", "!!").replace("_", "!_").replace("%", "!%") + "%"
    return (site, member, member, pattern)


def _theirs(rows: Iterable[Sequence[Any]], member: str) -> Iterator[Sequence[Any]]:
    """The candidate rows (time order) that are the member's: in a session they started, or naming them."""
    rows = list(rows)
    # Their sessions first: an event stamped by a kiosk's clock may sort before its session's start.
    sessions = {(r[1], r[2]) for r in rows if r[3] == "session_start" and r[5] == member and r[2] is not None}
    mentions = renamer(member, "")
    for row in rows:
        _id, machine, session, _kind, _ts, named, payload = row
        if named == member or (machine, session) in sessions or mentions(payload) != payload:
            yield row


def _loaded(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"value": value}
