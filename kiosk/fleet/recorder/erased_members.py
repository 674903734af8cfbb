"""Members erased from the store lately, so that late copies of their events are stored under a pseudonym too.

`members erase --store` replaces a member's id in everything the store holds.
Events of theirs can still come after it: a kiosk that was offline sends its
journal when it is back (up to the 7 days it keeps), and the recorder asks
kiosks to `replay` gaps. Stored as they came, those would carry the id again.

So an erasure leaves a row here: a SHA-256 digest of the site and the id, and
when. An event naming a member whose digest is here, stamped before the
erasure, is stored under a pseudonym instead (the one its session already has
in the store, else a new random one), its payload renamed the same way; one
stamped after it is a new visit and keeps the id. A tombstone of the erasure
itself that comes late is renamed too. After `KEEP_S` (longer than a kiosk
keeps its journal) the row is deleted: from then on nothing in the store
leads back to the id, as the erasure promised. Until then, whoever holds the
store and guesses the id can learn that it was erased, and when; nothing more
(no pseudonym is kept with it).
"""

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from kiosk.fleet.recorder.intake import EventRow, ProfileErased, Row

PSEUDONYM_PREFIX = "erased-"
# A kiosk's journal keeps 7 days (the recorder's replay asks no further back): a day more for clocks and queues.
KEEP_S = 8 * 86400.0
# The erasure's own tombstone comes from the broker a moment after it; a recorder that was down gets it later.
TOMBSTONE_LATE_S = 3600.0
# Old rows go at most this often (a DELETE in the recorder's writer transaction).
FORGET_EVERY_S = 3600.0


def digest(site: str, member: str) -> str:
    return hashlib.sha256(f"{site}\0{member}".encode()).hexdigest()


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + secrets.token_hex(6)


def renamer(member: str, pseudonym: str) -> Callable[[str], str]:
    # The id as a word of its own, so a note saying "m1's code" loses it too, and m12 keeps its id.
    word = re.compile(rf"(?<![a-z0-9_-]){re.escape(member)}(?![a-z0-9_-])")
    return lambda text: word.sub(pseudonym, text)


def renamed_payload(payload: str, rename: Callable[[str], str]) -> str:
    try:
        value = json.loads(payload)
    except ValueError:
        return rename(payload)
    return json.dumps(_renamed(value, rename), separators=(",", ":"))


def _renamed(value: Any, rename: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {rename(k): _renamed(v, rename) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, rename) for v in value]
    return rename(value) if isinstance(value, str) else value


def remember(cursor: Any, sql: Callable[[str], str], site: str, member: str, erased_at: float) -> None:
    """Note the erasure (a second one of the same id moves its time on) and forget the ones past `KEEP_S`."""
    cursor.execute(sql("INSERT INTO erased_members (site, digest, erased_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (site, digest) DO UPDATE SET erased_at = excluded.erased_at"),
                   (site, digest(site, member), erased_at))
    forget_old(cursor, sql, erased_at)


def forget_old(cursor: Any, sql: Callable[[str], str], now: float) -> None:
    cursor.execute(sql("DELETE FROM erased_members WHERE erased_at < ?"), (now - KEEP_S,))


def under_pseudonyms(cursor: Any, sql: Callable[[str], str], rows: Sequence[Row]) -> Sequence[Row]:
    """`rows`, with each event and tombstone naming a member erased after it was stamped put under a pseudonym."""
    named = {(r.site, r.member) for r in rows if isinstance(r, EventRow | ProfileErased) and r.member}
    if not named:
        return rows
    erased: dict[tuple[str, str], float] = {}
    for site in sorted({s for s, _ in named}):
        members = sorted(m for s, m in named if s == site)
        digests = {digest(site, m): m for m in members}
        cursor.execute(sql(f"SELECT digest, erased_at FROM erased_members WHERE site = ? "
                           f"AND digest IN ({', '.join('?' * len(digests))})"), (site, *digests))
        for found, erased_at in cursor.fetchall():
            erased[(site, digests[str(found)])] = float(erased_at)
    if not erased:
        return rows
    pseudonyms: dict[tuple[str, ...], str] = {}

    def pseudonym_for(row: EventRow | ProfileErased) -> str:
        # One session, one pseudonym: the one its start already has in the store, if it was stored before.
        if isinstance(row, EventRow) and row.session is not None:
            key: tuple[str, ...] = (row.site, row.machine, row.session)
            if key not in pseudonyms:
                cursor.execute(sql("SELECT member FROM events WHERE site = ? AND machine = ? AND session = ? "
                                   "AND type = 'session_start' AND member LIKE ? LIMIT 1"),
                               (*key, PSEUDONYM_PREFIX + "%"))
                stored = cursor.fetchall()
                pseudonyms[key] = str(stored[0][0]) if stored else new_pseudonym()
            return pseudonyms[key]
        return pseudonyms.setdefault((row.site, str(row.member)), new_pseudonym())

    out: list[Row] = []
    for row in rows:
        at = erased.get((row.site, row.member)) if isinstance(row, EventRow | ProfileErased) and row.member else None
        if at is not None and isinstance(row, EventRow) and row.ts < at and row.member is not None:
            pseudonym = pseudonym_for(row)
            row = replace(row, member=pseudonym, payload=renamed_payload(row.payload, renamer(row.member, pseudonym)))
        elif at is not None and isinstance(row, ProfileErased) and row.erased_at < at + TOMBSTONE_LATE_S:
            row = replace(row, member=pseudonym_for(row))
        out.append(row)
    return out
