"""Unit `profiles`: owns `R/kiosk/profile` (the member in session's saves) and reads
`gym/v1/{site}/members/+/profile`, the members' saved settings.

A kiosk never writes a member's profile topic (its ACL lets it read them only): a
stolen kiosk login must not rewrite or erase members it never had at its machine.
Its save goes to the site's profile desk (the recorder), which checks that this
machine had a session of that member, numbers the revision and publishes it
retained for every kiosk (docs/security.md, "Member profiles").

Retained profiles from the broker fill a local cache (so a scan works while
the broker is away); a save made here is held in the cache's `pending` table
and published only once the kiosk is online and has had a moment to receive
the latest retained profiles, as `latest.rev + 1`, so an offline kiosk never
pushes an old revision over a newer one. A save leaves the `pending` table
only once the broker has acknowledged it, so a kill at any moment neither
loses it nor saves it twice. The cache is opened at start.

Profiles are filed into the cache on a thread of their own (`ProfileIntake`),
not on the core thread: thousands arrive retained at every connect, and any
kiosk login may publish them, so a flood of them must never sit in the queue
a lift-off waits in. Only news for the member at the machine (a newer profile,
an erasure) is handed to the core.
"""

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

import paho.mqtt.client as mqtt

from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.topics import member_profiles_filter, parse
from kiosk.core.machine.depth_limits import with_target_margin
from kiosk.core.profiles.cache import HeldSave, ProfileBook, with_settings
from kiosk.core.unit import Unit, Wiring
from kiosk.mqtt.link import acknowledged

log = logging.getLogger(__name__)

# Retained profiles arrive right after the subscription; held saves wait this long after a connect.
PROFILE_SYNC_S = 1.0
# Profiles waiting to be filed, in payload bytes: a gym's whole membership at about 1 KiB each fits many
# times over; a flood past it is dropped and counted rather than held in memory (64 KiB each at worst).
INTAKE_MAX_BYTES = 16 * 1024 * 1024


class ProfileIntake:
    """A bounded queue and a thread that files profile messages; `put` may be called from paho's thread."""

    def __init__(self, file: Callable[[str, bytes], None], on_dropped: Callable[[], None]) -> None:
        self._file = file
        self._on_dropped = on_dropped
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._bytes = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="profile-intake", daemon=True)
        self._thread.start()

    def put(self, topic: str, payload: bytes) -> None:
        with self._lock:
            if self._bytes + len(payload) > INTAKE_MAX_BYTES:
                self._on_dropped()
                return
            self._bytes += len(payload)
        self._queue.put((topic, payload))

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            topic, payload = item
            with self._lock:
                self._bytes -= len(payload)
            try:
                self._file(topic, payload)
            except Exception:
                log.exception("profile on %s not filed", topic[:120])


class ProfileNews(Protocol):
    """Who hears of the profile of the member at the machine (the training part), on the core thread."""

    def profile_received(self, member: str, profile: MemberProfile | None) -> None:
        """A newer profile arrived for `member` (None: an operator erased them)."""

    def profile_saved(self, profile: MemberProfile) -> None:
        """A save made here was acknowledged by the broker."""


class ProfileSync(Unit):
    """The profile cache kept in step with the broker, and the saves made on this kiosk."""

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self._news: ProfileNews | None = None
        self._book: ProfileBook | None = None
        self._intake: ProfileIntake | None = None
        self._dropped_logged = False
        self._watched: str | None = None  # set on the core thread, read on the intake thread
        self._synced_at = float("inf")
        self._after_start = True  # the first pass over held saves: they may be from before a kill
        # Saves published and not yet acknowledged by the broker, by (member, model).
        self._in_flight: dict[tuple[str, str], tuple[HeldSave, MemberProfile, mqtt.MQTTMessageInfo]] = {}

    @property
    def book(self) -> ProfileBook:
        if self._book is None:
            raise RuntimeError("the profile unit has not started")
        return self._book

    def tell(self, news: ProfileNews) -> None:
        """Who hears the news, given once before `start`: training reads the cache through this unit and
        hears from it, so one of the two is built first and the other named to it here, typed."""
        self._news = news

    def start(self) -> None:
        if self._news is None:
            raise RuntimeError("the profile unit was started before anyone was told to hear its news")
        settings = self.wiring.settings
        self._book = ProfileBook(settings.data_dir / "profiles.sqlite3", settings.profile_cache_members)
        self._intake = intake = ProfileIntake(self._file, on_dropped=self._dropped)
        intake.start()
        self.wiring.link.subscribe(member_profiles_filter(settings.site),
                                   lambda topic, payload, _props: intake.put(topic, bytes(payload)), qos=1)
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self._connected))

    def stop(self) -> None:
        if self._intake is not None:
            self._intake.stop()
        if self._book is not None:
            self._book.close()

    def watch(self, member: str | None) -> None:
        """The member at the machine (None: nobody): only their profile's news goes to the core thread.

        Called before their settings are read from the cache, so a profile filed after that read is told.
        """
        self._watched = member

    def settings_for(self, member: str) -> tuple[MemberProfile | None, MachineSettings | None]:
        """The member's profile and their settings for this machine model (a held save wins)."""
        return self.book.settings_for(member, self.wiring.settings.machine_model)

    def lowered(self) -> list[tuple[str, str, MachineSettings]]:
        """(member, name, settings) of members whose max depth on this machine model a lift-off lowered."""
        found = []
        for member, name in self.book.lowered(self.wiring.settings.machine_model):
            profile, settings = self.settings_for(member)  # a held save wins, as everywhere
            if settings is not None and settings.max_lowered is not None:
                found.append((member, name or (profile.name if profile else ""), settings))
        return found

    def save(self, member: str, name: str, settings: MachineSettings, language: str | None = None) -> None:
        """Keep the member's settings for this machine model (and the language they chose, if they did) and
        publish them as soon as it is safe.

        The target is kept short of the max here too, whoever made the settings.
        """
        self.book.hold(member, name, self.wiring.settings.machine_model, with_target_margin(settings), language)
        self._publish_held(self.wiring.clock.now())

    def tick(self, now: float) -> None:
        self._confirm_published()
        self._publish_held(now)

    def _connected(self) -> None:
        self._synced_at = self.wiring.clock.now() + PROFILE_SYNC_S

    def _publish_held(self, now: float) -> None:
        if not self.wiring.link.connected or now < self._synced_at:
            return
        book = self.book
        for held in book.pending():
            if (held.member, held.model) in self._in_flight:
                continue
            latest = book.get(held.member)
            if (self._after_start and latest is not None and latest.machines.get(held.model) == held.settings
                    and held.language in (None, latest.language)):
                # Held since before this start and already on the broker: the kiosk was stopped or killed
                # between the publish and its acknowledgement. Published again it would be a second rev.
                book.release(held.member, held.model, held.settings)
                continue
            try:
                profile = with_settings(latest, held.member, held.name, held.model, held.settings, now,
                                        held.language)
            except ValueError as exc:
                log.error("save of %s's settings dropped: %s", held.member, exc)
                book.release(held.member, held.model, held.settings)
                continue
            info = self.wiring.link.publish(self.wiring.topics.kiosk_profile, profile, qos=1)
            self._in_flight[(held.member, held.model)] = (held, profile, info)
            book.stats.saves_published += 1
        book.stats.saves_waiting = book.waiting()
        self._after_start = False

    def _confirm_published(self) -> None:
        """A held save leaves the cache's `pending` table only once the broker has acknowledged it."""
        for key, (held, profile, info) in list(self._in_flight.items()):
            if not acknowledged(info):
                continue
            del self._in_flight[key]
            self.book.offer(profile)
            self.book.release(held.member, held.model, held.settings)
            if self._news is not None:
                self._news.profile_saved(profile)

    def _file(self, topic: str, payload: bytes) -> None:
        """On the intake thread: into the cache; news of a newer profile (or an erasure) to the core."""
        parsed = parse(topic)
        if parsed is None or parsed.member is None:
            return
        member = parsed.member
        profile = self.book.receive(member, payload)
        # Read after filing: a session that began meanwhile either read this profile from the cache or is
        # already watched here (see `watch`), so no news for the member at the machine is missed.
        if (profile is not None or not payload) and member == self._watched:
            news = self._news
            if news is not None:
                self.wiring.inbox.post(lambda: news.profile_received(member, profile))

    def _dropped(self) -> None:
        self.book.stats.dropped += 1
        if not self._dropped_logged:  # once per run: a flood must not flood the log too
            self._dropped_logged = True
            log.error("profiles arrive faster than they can be filed; dropping past %d bytes (counted in "
                      "defences.profiles_dropped)", INTAKE_MAX_BYTES)
