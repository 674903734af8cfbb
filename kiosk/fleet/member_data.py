"""A member's data is theirs: `members export` writes all the site holds about them, `members erase --store`
takes them out of the recorder's store as well as the broker.

The site holds a member's retained profile on its broker (settings per
machine model and their visit history) and, in the recorder's store, every
event of their sessions and their profile revisions
(kiosk/fleet/recorder/member_record.py says what an erasure keeps, and why).
"""

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.contract.base import PayloadError, parse_json_object
from kiosk.contract.topics import member_profile
from kiosk.fleet import CommandFailed
from kiosk.fleet.profile_erasure import RETAINED_WAIT_S, erase_member
from kiosk.fleet.recorder.member_record import Erased, MemberRecord, erase_member_record, member_record
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store, without_password
from kiosk.host.private_files import write_private
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import connected

EXPORT_FORMAT: Literal["legpress-member-export/1"] = "legpress-member-export/1"
# A site's recorder stores the erasure's tombstone a moment after the broker took it; the store's erasure
# waits up to this long for it, so the tombstone is put under the pseudonym too rather than landing after. A
# recorder on a busy Pi writes in batches and can take seconds; the wait ends as soon as the tombstone is there.
TOMBSTONE_WAIT_S = 10.0


class ExportedSession(BaseModel):
    """One session of the member: the machine, and every event of it as the kiosk sent it, in time order."""

    model_config = ConfigDict(extra="forbid")
    machine: str
    session: str
    events: list[dict[str, Any]]


class ExportedEvent(BaseModel):
    """An event naming the member outside their sessions (a pain report or an alert with no session open)."""

    model_config = ConfigDict(extra="forbid")
    machine: str
    event: dict[str, Any]


class MemberExport(BaseModel):
    """The one JSON file `members export` writes."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["legpress-member-export/1"] = EXPORT_FORMAT
    site: str
    member: str
    exported_at: str = Field(description="When, local time with its offset (ISO 8601).")
    profile: dict[str, Any] | None = Field(description="The retained profile on the site broker; null: none.")
    profile_revisions: list[dict[str, Any]] = Field(
        description="Each revision of the profile the recorder received: rev, updated, received_at, machines.")
    sessions: list[ExportedSession]
    other_events: list[ExportedEvent]
    erasures_recorded: int = Field(description="Earlier erasures of the profile the recorder holds.")


def retained_profile(broker: BrokerUrl | str, site: str, member: str, timeout: float) -> dict[str, Any] | None:
    """The member's retained profile as JSON, None when the broker holds none (as the operator's login reads it)."""
    got: list[bytes] = []
    arrived = threading.Event()

    def keep(_topic: str, payload: bytes, _props: object) -> None:
        got.append(payload)
        arrived.set()

    with connected(broker, timeout) as link:
        link.subscribe(member_profile(site, member), keep, qos=1)
        arrived.wait(min(RETAINED_WAIT_S, timeout))
    if not got or not got[-1]:
        return None
    try:
        return parse_json_object(got[-1])
    except PayloadError as exc:
        # Still theirs, and still held: exported as the text it is.
        return {"unreadable": got[-1].decode("utf-8", "replace"), "reason": str(exc)}


def build_export(site: str, member: str, profile: dict[str, Any] | None, record: MemberRecord,
                 now: float) -> MemberExport:
    by_session: dict[tuple[str, str], ExportedSession] = {
        key: ExportedSession(machine=key[0], session=key[1], events=[]) for key in record.sessions}
    others = []
    for event in record.events:
        session = by_session.get((event.machine, event.session or ""))
        if session is not None:
            session.events.append(event.payload)
        else:
            others.append(ExportedEvent(machine=event.machine, event=event.payload))
    return MemberExport(site=site, member=member,
                        exported_at=datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"),
                        profile=profile, profile_revisions=record.revisions, sessions=list(by_session.values()),
                        other_events=others, erasures_recorded=record.erasures)


def export_member(broker: BrokerUrl | str, site: str, member: str, store_url: str, out: Path,
                  timeout: float = 10.0) -> MemberExport:
    """Write the member's export to `out` (0600); `CommandFailed` when the site holds nothing about them."""
    store = _store(store_url)
    try:
        record = member_record(store, site, member)
    finally:
        store.close()
    profile = retained_profile(broker, site, member, timeout)
    if profile is None and not record.events and not record.revisions:
        raise CommandFailed(f"the site {site} holds nothing about member {member}: no profile on the broker, "
                            f"nothing in the store (check the id)")
    export = build_export(site, member, profile, record, time.time())
    write_private(out, json.dumps(export.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n")
    return export


@dataclass(frozen=True)
class Erasure:
    """What `members erase` removed: the retained profile's topic (None: there was none) and the store's part."""

    topic: str | None
    store: Erased | None


def erase_everywhere(broker: BrokerUrl | str, site: str, member: str, store_url: str, timeout: float = 10.0,
                     ) -> Erasure:
    """The retained profile (if any) from the broker, then the member from the store."""
    store = _store(store_url)
    try:
        topic = None
        if retained_profile(broker, site, member, timeout) is not None:
            since = time.time()
            topic = erase_member(broker, site, member, timeout)
            _wait_for_tombstone(store, site, member, since)
        erased = erase_member_record(store, site, member)
    finally:
        store.close()
    if topic is None and not erased:
        raise CommandFailed(f"the site {site} holds nothing about member {member}: no profile on the broker, "
                            f"nothing in the store {without_password(store_url)} (check the id)")
    return Erasure(topic, erased)


def _wait_for_tombstone(store: Store, site: str, member: str, since: float) -> None:
    # No recorder running: nothing comes, and the wait ends; the store is erased all the same.
    deadline = time.monotonic() + TOMBSTONE_WAIT_S
    while time.monotonic() < deadline:
        if store.read("SELECT 1 FROM profile_erasures WHERE site = ? AND member = ? AND erased_at >= ?",
                      (site, member, since - 1)):
            return
        time.sleep(0.1)


def _store(url: str) -> Store:
    store = open_store(url, must_exist=True)
    store.migrate()
    return store


def erased_lines(member: str, erasure: Erasure, store_url: str | None) -> list[str]:
    """What `members erase` prints: one line per place the member was taken out of."""
    lines = []
    if erasure.topic is not None:
        lines.append(f"erased {member}'s profile ({erasure.topic})")
    elif store_url is not None:
        lines.append(f"no saved profile of {member} on the broker")
    if erasure.store is not None and store_url is not None:
        e = erasure.store
        lines.append(f"erased {member} from the store {without_password(store_url)}: {e.revisions} profile "
                     f"revision(s) deleted; {e.sessions} session(s), {e.events} event(s) and {e.tombstones} "
                     f"erasure record(s) kept for the machines' counts under the pseudonym {e.pseudonym}")
    return lines
