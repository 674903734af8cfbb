"""The gym floor as the console shows it: one tile per machine and the alerts, kept live from the site broker.

Fed on the MQTT link's thread through `FleetView`'s observer; read by the web
pages on theirs. One lock guards it all; every change bumps a version, so each
open page is sent only the tiles that changed since it last drew them.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.console.alerts import Alert, AlertBoard
from kiosk.console.staff_words import alert_title, cue_headline, first_name
from kiosk.contract.commands import OutOfOrder
from kiosk.contract.events import CueRaised, PainReport, RepDone, SensorFault, SessionEnd, SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.profile import MemberProfile
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import site_config_set
from kiosk.fleet.view import (
    CONFIG_STATE,
    KIOSK_BRIDGE,
    KIOSK_EVENTS,
    KIOSK_INFO,
    KIOSK_STATUS,
    SENSOR_RELAYED,
    SENSOR_STATUS,
    BadPayload,
    FleetView,
    Seen,
    Source,
)
from kiosk.mqtt.link import MqttLink

MAX_NAMES = 100_000  # members whose name is kept (a profile is a few hundred bytes; a name far less)
MAX_FOUND = 25

SOURCES: dict[str, Source] = {
    "status": KIOSK_STATUS,
    "bridge": KIOSK_BRIDGE,
    "event": KIOSK_EVENTS,
    "sensor": SENSOR_STATUS,
    "sensor_relayed": SENSOR_RELAYED,
    # Whoever takes a machine out of order (this console or `legpress-fleet command`), its reason shows.
    "out_of_order": Source("kiosk/cmd/out_of_order", OutOfOrder),
    # For the config page: the config each kiosk applies (or why it refused a push), and its machine model.
    "config": CONFIG_STATE,
    "info": KIOSK_INFO,
}


@dataclass(frozen=True)
class Tile:
    """One machine as the floor shows it."""

    machine: str
    unlisted: bool = False  # an inventory was given and this machine is not in it
    state: str = "unknown"  # ready, disconnected, lost, unknown
    mode: str = ""
    reason: str = ""  # why it is out of order
    member: str = ""  # first name (or id) of the member at the machine
    session: str | None = None
    set_number: int = 1
    reps: int = 0
    last_cue: str = ""
    sensor: str = "unknown"  # ok, lost, disconnected, faulty: ..., unknown
    problems: tuple[str, ...] = ()  # payloads the console could not read, in words
    version: int = 0


@dataclass
class _Machine:
    tile: Tile
    notes: dict[str, str] = field(default_factory=dict)


class Floor:
    def __init__(self, site: str, listed: list[str]) -> None:
        self.site = site
        self.view = FleetView(site, SOURCES, on_message=self._on_message)
        self.alerts = AlertBoard()
        self._lock = threading.RLock()
        self._version = 0
        self.alerts_version = 0
        self._machines: dict[str, _Machine] = {m: _Machine(Tile(m)) for m in listed}
        self._inventory_given = bool(listed)
        self._names: dict[str, str] = {}
        # For the words printed on a member's card: their profile's language, else the site's default.
        self._languages: dict[str, str] = {}
        self._site_language: str | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- wiring -------------------------------------------------------------------------------------

    def listen(self, link: MqttLink) -> None:
        self.view.listen(link)
        link.subscribe(f"gym/v1/{self.site}/members/+/profile", self._on_profile, qos=1)
        link.subscribe(site_config_set(self.site), self._on_site_config, qos=1)

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (on the link's thread, so it must only hand over) after every change."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    # -- reading ------------------------------------------------------------------------------------

    def tiles(self) -> list[Tile]:
        with self._lock:
            return [m.tile for _, m in sorted(self._machines.items())]

    def tile(self, machine: str) -> Tile | None:
        with self._lock:
            found = self._machines.get(machine)
            return None if found is None else found.tile

    def open_alerts(self) -> list[Alert]:
        with self._lock:
            return [replace(a) for a in self.alerts.open_alerts()]

    def dropped_alerts(self) -> dict[str, int]:
        """Per machine, alerts not listed because it already had too many open (a kiosk inventing them)."""
        with self._lock:
            return dict(sorted(self.alerts.dropped.items()))

    def answered_alerts(self) -> list[Alert]:
        with self._lock:
            return [replace(a) for a in self.alerts.answered()]

    def find_members(self, query: str) -> list[tuple[str, str]]:
        """Members whose id or name contains `query` (any case), as (id, name), at most `MAX_FOUND`."""
        q = query.strip().casefold()
        if not q:
            return []
        with self._lock:
            found = [(m, n) for m, n in self._names.items() if q in m.casefold() or q in n.casefold()]
        return sorted(found)[:MAX_FOUND]

    def member_name(self, member: str) -> str | None:
        with self._lock:
            return self._names.get(member)

    def forget_member(self, member: str) -> None:
        with self._lock:
            self._names.pop(member, None)
            self._languages.pop(member, None)

    def card_language(self, member: str) -> str | None:
        """The language of the words on `member`'s card: their profile's, else the site's default (the first
        of the site config's `languages`), else None (English)."""
        with self._lock:
            return self._languages.get(member) or self._site_language

    # -- alerts from the console itself -------------------------------------------------------------

    def raise_alert(self, alert: Alert) -> None:
        with self._lock:
            if self.alerts.raise_once(alert) is not None:
                self.alerts_version += 1
        self._changed()

    def mark_seen(self, alert_id: str) -> Alert | None:
        """The alert is on a signed-in screen; the first time only, returns it (to tell the kiosk)."""
        with self._lock:
            alert = self.alerts.get(alert_id)
            if alert is None or alert.seen_sent:
                return None
            alert.seen_sent = True
            return replace(alert)

    def answer(self, alert_id: str, by: str) -> Alert | None:
        with self._lock:
            alert = self.alerts.get(alert_id)
            if alert is None or not alert.open:
                return None
            self.alerts.answer(alert, by)
            self.alerts_version += 1
            answered = replace(alert)
        self._changed()
        return answered

    # -- the broker ---------------------------------------------------------------------------------

    def _on_profile(self, topic: str, payload: bytes, _properties: object) -> None:
        if not payload:  # erased: the retained profile was cleared
            parts = topic.split("/")
            if len(parts) == 6:
                self.forget_member(parts[4])
            return
        try:
            profile = MemberProfile.model_validate_json(payload)
        except ValueError:
            return  # a bad profile is the recorder's and the kiosks' to report; here it only lacks a name
        with self._lock:
            if len(self._names) < MAX_NAMES or profile.member in self._names:
                self._names[profile.member] = profile.name
                if profile.language:
                    self._languages[profile.member] = profile.language
                else:
                    self._languages.pop(profile.member, None)

    def _on_site_config(self, _topic: str, payload: bytes, _properties: object) -> None:
        """The site's retained config layer: only its default language is read here. A layer the kiosks would
        refuse (bad JSON, a wrong type) leaves the default as it was: they report it, not the console."""
        try:
            layer = json.loads(payload) if payload else {}
        except ValueError:
            return
        languages = layer.get("languages") if isinstance(layer, dict) else None
        if languages is None and isinstance(layer, dict):
            with self._lock:
                self._site_language = None
        elif isinstance(languages, list) and languages and isinstance(languages[0], str):
            with self._lock:
                self._site_language = languages[0][:35]

    def _on_message(self, machine: str, source: str, value: Any, _previous: Seen | None) -> None:
        with self._lock:
            entry = self._machines.setdefault(machine, _Machine(Tile(machine, unlisted=self._inventory_given)))
            before = entry.tile
            tile = self._apply(entry, source, value)
            state = self.view.kiosk_state(machine)
            tile = replace(tile, state=state, problems=tuple(entry.notes.values()))
            if state == "lost" and before.state != "lost":
                self._raise(Alert("kiosk_lost", machine, detail="no word from its kiosk"))
            if tile != before:
                self._version += 1
                entry.tile = replace(tile, version=self._version)
        self._changed()

    def _apply(self, entry: _Machine, source: str, value: Any) -> Tile:
        tile = entry.tile
        if isinstance(value, BadPayload):
            entry.notes[source] = f"unreadable {source.replace('_', ' ')}: {value.reason}"
            return tile
        entry.notes.pop(source, None)
        match value:
            case KioskStatus(mode=mode):
                return replace(tile, mode=mode, reason=tile.reason if mode == "out_of_order" else "")
            case OutOfOrder(reason=reason):
                return replace(tile, reason=reason)
            case SensorStatus(state=state):
                if source == "sensor_relayed" and self.view.value(tile.machine, "sensor") is not None:
                    return tile  # the node's own word comes first
                if state == "lost" and tile.sensor != "lost":
                    self._raise(Alert("sensor", tile.machine, detail="sensor node lost"))
                return replace(tile, sensor="ok" if state == "ready" else state)
            case _ if source == "event":
                return self._event(tile, value)
        return tile

    def _event(self, tile: Tile, event: Any) -> Tile:
        m = tile.machine
        match event:
            case SessionStart(member=member, session=session):
                name = first_name(self._names.get(member, "")) or member
                return replace(tile, member=name, session=session, set_number=1,
                               reps=0, last_cue="")
            case RepDone(rep=rep):
                return replace(tile, reps=rep)
            case CueRaised(cue=cue, severity=severity, session=session):
                if cue == "pain_stop":
                    self._raise(Alert("pain", m, session=session, member=tile.member))
                if cue.startswith("liftoff_") and severity == "stop":
                    self._raise(Alert("stopped", m, session=session, member=tile.member,
                                      detail="the lower back lifted twice in one set"))
                if cue == "sensor_lost":
                    self._raise(Alert("sensor", m, detail="the kiosk hears no sensor samples"))
                return replace(tile, last_cue=cue_headline(cue, severity))
            case PainReport(kind=kind, session=session, member=member):
                self._pain_kind(m, session, kind, first_name(self._names.get(member, "")) or member)
                return tile
            case SetEnd(set_number=number):
                return replace(tile, set_number=number + 1, reps=0)
            case SessionEnd():
                return replace(tile, member="", session=None, set_number=1, reps=0, last_cue="")
            case SensorFault(fault=fault, detail=detail):
                self._raise(Alert("sensor", m, detail=f"sensor faulty ({fault}) {detail}".strip()))
                return replace(tile, sensor=f"faulty: {fault}")
        return tile

    def _pain_kind(self, machine: str, session: str | None, kind: str, member: str) -> None:
        alert = self.alerts.find("pain", machine, session)
        if alert is not None and not alert.detail:
            alert.detail = kind
            self.alerts_version += 1
        elif alert is None:
            self._raise(Alert("pain", machine, session=session, detail=kind, member=member))

    def _raise(self, alert: Alert) -> None:
        if self.alerts.raise_once(alert) is not None:
            self.alerts_version += 1

    def _changed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def describe(self, alert: Alert) -> str:
        """The alert's line, as staff read it (it names the machine; a pain alert says "Pain")."""
        return alert_title(alert)
