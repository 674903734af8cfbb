"""Home Assistant discovery on the site, published by the recorder from what each kiosk says it is.

A discovery document tells Home Assistant which topic each button commands. Written by
a kiosk, a stolen kiosk could point its buttons at another kiosk. So on the site only
the recorder writes `homeassistant/device/legpress_<site>_<machine>/config`: it builds
the document itself (kiosk.contract.discovery) from the kiosk's `info` (checked as
plain text, ids for site and machine) for the machine whose topic it came on, so every
button commands that machine and nothing else. A kiosk's `config/state` says whether
its config turns Home Assistant on; off, the device is removed. The kiosk's own
document stays on its own broker (the bridge does not carry it).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.contract import CONTRACT_VERSION
from kiosk.contract.discovery import config_topic, device_discovery, removal
from kiosk.contract.kiosk import KioskInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeAssistantWanted:
    """A kiosk's applied config said whether Home Assistant is on (from its `config/state`)."""

    site: str
    machine: str
    enabled: bool
    # How often the kiosk refreshes its status (its `telemetry_interval_s`): the device's expiry follows it.
    heartbeat_s: float


class DiscoveryDesk:
    """Keeps each kiosk's Home Assistant device in step with its info and its config."""

    def __init__(self, site: str, publish: Callable[[str, bytes], bool]) -> None:
        """`publish(topic, payload)`: retained, QoS 1."""
        self._site = site
        self._publish = publish
        self._info: dict[str, KioskInfo] = {}
        self._wanted: dict[str, HomeAssistantWanted] = {}
        self._published: dict[str, bytes] = {}

    def info(self, machine: str, version: str, machine_model: str, config_version: str) -> None:
        self._info[machine] = KioskInfo(version=version, machine_model=machine_model, config_version=config_version,
                                        contract_version=CONTRACT_VERSION, site=self._site, machine=machine)
        self._update(machine)

    def wanted(self, want: HomeAssistantWanted) -> None:
        if want.site == self._site:
            self._wanted[want.machine] = want
            self._update(want.machine)

    def _update(self, machine: str) -> None:
        wanted, info = self._wanted.get(machine), self._info.get(machine)
        if wanted is None or (wanted.enabled and info is None):
            return  # not known yet: neither add nor remove what may be there
        # Every kiosk of a site is bridged to it: the site broker writes its `R/kiosk/bridge`.
        payload = (device_discovery(info, wanted.heartbeat_s, bridged=True).encode()
                   if wanted.enabled and info is not None else removal())
        if self._published.get(machine) == payload:
            return
        if self._publish(config_topic(self._site, machine), payload):
            self._published[machine] = payload
            # A removal goes out for every kiosk with Home Assistant off at each start: not worth a line.
            (log.info if payload else log.debug)("Home Assistant device of %s %s", machine,
                                                 "published" if payload else "removed")
