"""Unit `profiles`: owns `gym/v1/{site}/members/+/profile`, the members' saved settings.

Retained profiles from the broker fill a local cache (so a scan works while
the broker is away); a save made here is held in the cache's `pending` table
and published only once the kiosk is online and has had a moment to receive
the latest retained profiles, as `latest.rev + 1`, so an offline kiosk never
pushes an old revision over a newer one. A save leaves the `pending` table
only once the broker has acknowledged it, so a kill at any moment neither
loses it nor saves it twice. The cache is opened at start.
"""

import logging
from collections.abc import Callable

import paho.mqtt.client as mqtt

from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.contract.topics import member_profiles_filter, parse
from kiosk.core.depth_limits import with_target_margin
from kiosk.core.link import acknowledged
from kiosk.core.profiles import HeldSave, ProfileBook, with_settings
from kiosk.core.unit import Unit, Wiring

log = logging.getLogger(__name__)

# Retained profiles arrive right after the subscription; held saves wait this long after a connect.
PROFILE_SYNC_S = 1.0


class ProfileSync(Unit):
    """The profile cache kept in step with the broker, and the saves made on this kiosk."""

    def __init__(self, wiring: Wiring, on_received: Callable[[str, MemberProfile | None], None],
                 on_saved: Callable[[MemberProfile], None]) -> None:
        """`on_received(member, profile)`: a newer profile arrived (None: the member was erased);
        `on_saved(profile)`: a save made here was published."""
        super().__init__(wiring)
        self._on_received = on_received
        self._on_saved = on_saved
        self._book: ProfileBook | None = None
        self._synced_at = float("inf")
        self._after_start = True  # the first pass over held saves: they may be from before a kill
        # Saves published and not yet acknowledged by the broker, by (member, model).
        self._in_flight: dict[tuple[str, str], tuple[HeldSave, MemberProfile, mqtt.MQTTMessageInfo]] = {}

    @property
    def book(self) -> ProfileBook:
        if self._book is None:
            raise RuntimeError("the profile unit has not started")
        return self._book

    def start(self) -> None:
        settings = self.wiring.settings
        self._book = ProfileBook(settings.data_dir / "profiles.sqlite3", settings.profile_cache_members)
        self.listen(member_profiles_filter(self.wiring.settings.site), self._profile_message, qos=1)
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self._connected))

    def stop(self) -> None:
        if self._book is not None:
            self._book.close()

    def settings_for(self, member: str) -> tuple[MemberProfile | None, MachineSettings | None]:
        """The member's profile and their settings for this machine model (a held save wins)."""
        return self.book.settings_for(member, self.wiring.settings.machine_model)

    def save(self, member: str, name: str, settings: MachineSettings) -> None:
        """Keep the member's settings for this machine model and publish them as soon as it is safe.

        The target is kept short of the max here too, whoever made the settings.
        """
        self.book.hold(member, name, self.wiring.settings.machine_model, with_target_margin(settings))
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
            if self._after_start and latest is not None and latest.machines.get(held.model) == held.settings:
                # Held since before this start and already on the broker: the kiosk was stopped or killed
                # between the publish and its acknowledgement. Published again it would be a second rev.
                book.release(held.member, held.model, held.settings)
                continue
            try:
                profile = with_settings(latest, held.member, held.name, held.model, held.settings, now)
            except ValueError as exc:
                log.error("save of %s's settings dropped: %s", held.member, exc)
                book.release(held.member, held.model, held.settings)
                continue
            info = self.wiring.link.publish(self.wiring.topics.profile(held.member), profile, qos=1, retain=True)
            self._in_flight[(held.member, held.model)] = (held, profile, info)
        self._after_start = False

    def _confirm_published(self) -> None:
        """A held save leaves the cache's `pending` table only once the broker has acknowledged it."""
        for key, (held, profile, info) in list(self._in_flight.items()):
            if not acknowledged(info):
                continue
            del self._in_flight[key]
            self.book.offer(profile)
            self.book.release(held.member, held.model, held.settings)
            self._on_saved(profile)

    def _profile_message(self, topic: str, payload: bytes, _props: object, _received_at: float) -> None:
        parsed = parse(topic)
        if parsed is None or parsed.member is None:
            return
        profile = self.book.receive(parsed.member, payload)
        if profile is not None or not payload:
            self._on_received(parsed.member, profile)
