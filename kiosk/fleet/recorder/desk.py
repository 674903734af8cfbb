"""The profile desk: the one writer of members' profiles besides operators.

A kiosk sends the member in session's save on its own `R/kiosk/profile` (its ACL
lets it write nowhere else, and read profiles only). The desk, on the recorder's
writer thread after the batch holding the save is stored, publishes it retained on
`gym/v1/{site}/members/{member}/profile` only when:

- that machine reported a session of that member (`session_start`) received within
  `SAVE_WINDOW_S` and after the member's last erasure, so a kiosk can change only
  members it had at its machine, and an erased member stays erased until they
  train again;
- the machine's model is known: only that model's settings are taken from the
  save, every other model's come from the newest stored revision, so a kiosk can
  never rewrite a member's settings for machines it is not. With the site's
  inventory (`record --inventory`) the model is the inventory's and a machine not
  in it is refused; without, it is the one the kiosk's own `info` gives, which a
  stolen kiosk login could change (docs/security.md).

The desk numbers the revision itself (one above the highest ever stored or given,
so an erased member's revisions are never reused) and stamps `updated` with the
time it received the save: neither the kiosk's `rev` nor its clock is believed.
A machine gets at most `MAX_SAVES_PER_MACHINE_HOUR` saves published an hour, so
a stolen kiosk that reports sessions it never had cannot fill every broker of the
site with retained profiles; each is at most 16 KiB (intake.py). The console's
erasures are bounded the same way (`MAX_CONSOLE_ERASES_PER_HOUR`). What the desk
refuses is counted by reason in the recorder's log line.
"""

import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.profile import ERASED_BY_PROPERTY, MemberProfile
from kiosk.contract.topics import member_profile
from kiosk.fleet.recorder.intake import EraseAsk, ProfileSave, Refused
from kiosk.fleet.recorder.store import Store

log = logging.getLogger(__name__)

# A kiosk's journal keeps 7 days; a save held by a kiosk offline that long still goes through.
SAVE_WINDOW_S = 8 * 86400.0
# A busy machine sees a member every few minutes, each saving a few times: a kiosk sending more saves than
# this in an hour is flooding (each accepted save is a retained profile on every broker of the site).
MAX_SAVES_PER_MACHINE_HOUR = 240
# The console erases one member at a time, each typed back to confirm: a front desk handles a few requests a
# week. Past this many in an hour (the whole site's, whoever asks) the desk refuses, so a stolen console login
# cannot empty every kiosk of every member's settings in a minute. An operator erasing many members at once
# (a closed branch) uses `legpress-fleet members erase`, which does not go through the desk.
MAX_CONSOLE_ERASES_PER_HOUR = 30
HOUR_S = 3600.0


class ProfileDesk:
    """Checks kiosks' saves against their sessions and publishes the accepted ones as the next revision."""

    def __init__(self, store: Store, site: str, publish: Callable[[str, bytes, Properties | None], bool],
                 window_s: float = SAVE_WINDOW_S, models: Mapping[str, str] | None = None) -> None:
        """`publish(topic, payload, properties)`: retained, QoS 1; False when it could not be sent.
        `models`: each machine's model from the site's inventory; None: as each kiosk's `info` says."""
        self._store = store
        self._models = dict(models) if models is not None else None
        self._site = site
        self._publish = publish
        self._window_s = window_s
        # Revisions given and not yet back from the broker as stored rows: two saves of one member in a row
        # must not get the same rev (a kiosk keeps only the first).
        self._given: dict[str, int] = {}
        self._accepted: dict[str, deque[float]] = {}  # per machine, when its saves were published
        self._erased: deque[float] = deque()  # when the console's erasures were published

    def consider(self, save: ProfileSave) -> MemberProfile:
        """Publish `save` as the member's next revision and return it, or raise `Refused` saying why not."""
        where = f"{save.machine}'s save of {save.member}"
        if save.site != self._site:
            raise Refused("save_foreign_site", f"{where}: site {save.site}, not {self._site}")
        recent = self._accepted.setdefault(save.machine, deque())
        while recent and not 0 <= save.received_at - recent[0] < HOUR_S:
            recent.popleft()
        if len(recent) >= MAX_SAVES_PER_MACHINE_HOUR:
            raise Refused("save_over_rate", f"{where}: {save.machine} sent {len(recent)} saves in the last hour; "
                                            "refused until it slows down")
        if not self._store.had_session(save.site, save.machine, save.member, save.received_at - self._window_s):
            raise Refused("save_without_session", f"{where}: {save.machine} reported no session of {save.member} "
                                                  "(or they were erased since); refused")
        model = self._model_of(save.machine, where)
        settings = save.profile.machines.get(model)
        if settings is None:
            raise Refused("save_wrong_model", f"{where}: no settings for {model}, the machine's model; refused")
        machines: dict[str, Any] = self._store.latest_settings(save.site, save.member)
        stored_rev = self._store.latest_rev(save.site, save.member)
        # A kiosk killed before the broker's acknowledgement sends its held save again after the restart: the
        # same settings as the newest stored revision (and none in flight) make no new revision.
        unchanged = stored_rev > 0 and self._given.get(save.member, 0) <= stored_rev and \
            machines.get(model) == settings.model_dump(mode="json")
        machines[model] = settings.model_dump(mode="json")
        if unchanged:
            log.info("%s unchanged from rev %d: nothing published", where, stored_rev)
            data = json.loads(save.profile.model_dump_json())
            data.update(rev=stored_rev, machines=machines)
            return MemberProfile.model_validate(data)
        rev = max(stored_rev, self._given.get(save.member, 0)) + 1
        data = json.loads(save.profile.model_dump_json())
        data.update(rev=rev, updated=save.received_at, machines=machines)
        profile = MemberProfile.model_validate(data)
        if not self._publish(member_profile(save.site, save.member), profile.model_dump_json().encode(), None):
            raise Refused("save_not_sent", f"{where}: the broker did not take rev {rev}; the kiosk's copy stays")
        self._given[save.member] = rev
        recent.append(save.received_at)
        log.info("%s published as rev %d", where, rev)
        return profile

    def _model_of(self, machine: str, where: str) -> str:
        """The machine's model: the inventory's when the desk has one (a kiosk's own `info` is what its login
        writes, so a stolen one could claim another model and rewrite members' settings for it)."""
        if self._models is not None:
            model = self._models.get(machine)
            if model is None:
                raise Refused("save_unknown_machine", f"{where}: {machine} is not in the site's inventory; refused")
            return model
        model = self._store.machine_model(self._site, machine)
        if model is None:
            raise Refused("save_unknown_model", f"{where}: {machine} never said its machine model; refused")
        return model

    def erase(self, ask: EraseAsk) -> str:
        """Clear the member's retained profile for the console; returns the tombstone's eraser, or raises `Refused`.

        The console's login may not write profiles (docs/security.md): it asks here, and the
        clearing comes back to the recorder as any erasure does, a tombstone naming `console.<by>`.
        A member the record never had a profile of is refused, so a mistyped id erases nothing.
        """
        where = f"the console's erase of {ask.member}"
        if ask.site != self._site:
            raise Refused("erase_foreign_site", f"{where}: site {ask.site}, not {self._site}")
        if self._store.latest_rev(ask.site, ask.member) <= 0 and ask.member not in self._given:
            raise Refused("erase_unknown_member", f"{where}: no profile of {ask.member} recorded; nothing erased")
        while self._erased and not 0 <= ask.received_at - self._erased[0] < HOUR_S:
            self._erased.popleft()
        if len(self._erased) >= MAX_CONSOLE_ERASES_PER_HOUR:
            raise Refused("erase_over_rate", f"{where}: the console asked {len(self._erased)} erasures in the last "
                                             "hour; refused until the hour has passed (an operator erases many "
                                             "members with `legpress-fleet members erase`)")
        eraser = f"console.{ask.by}"
        said = Properties(PacketTypes.PUBLISH)
        said.UserProperty = (ERASED_BY_PROPERTY, eraser)
        if not self._publish(member_profile(ask.site, ask.member), b"", said):
            raise Refused("erase_not_sent", f"{where}: the broker did not take the erasure")
        self._erased.append(ask.received_at)
        log.info("%s by %s published", where, eraser)
        return eraser
