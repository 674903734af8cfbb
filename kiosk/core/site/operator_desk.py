"""Unit `operators`: owns `R/kiosk/cmd/#`, `gym/v1/{site}/broadcast/cmd/#` and the replies on
`R/kiosk/res/{name}`, and the config topics `gym/v1/{site}/config/set`, `R/kiosk/config/set` and
`R/kiosk/config/state` (retained).

Commands: each one is answered once by the `CommandDesk`; the unit that owns
what a command changes registers its handler (modes and sessions: `Kiosk`;
presence and config: `rebirth`). Config: layered (the kiosk's file, the
site's push, this kiosk's push), validated before anything changes, refused
with the reason on `config/state` and the old config kept, also across a
restart (`config_layers.json` in the data folder).
"""

import logging
from collections.abc import Callable

from paho.mqtt.properties import Properties

from kiosk.contract.config import KioskConfig
from kiosk.core.site.remote_config import ConfigKeeper, Scope
from kiosk.core.unit import Unit, Wiring

log = logging.getLogger(__name__)


class OperatorDesk(Unit):
    """Operators' commands and pushed config."""

    def __init__(self, wiring: Wiring, on_config: Callable[[KioskConfig], None]) -> None:
        """`on_config(config)`: a push was applied and `config` is now in force."""
        super().__init__(wiring)
        self.keeper = ConfigKeeper(wiring.settings.tuning, wiring.settings.machine_model)
        self._on_config = on_config

    @property
    def config(self) -> KioskConfig:
        return self.keeper.applied

    def start(self) -> None:
        # Before anything connects: the retained pushes that arrive next are judged against the last good ones.
        if self.keeper.restore(self.wiring.settings.data_dir):
            log.info("config %s kept from the last run", self.config.version)
        topics = self.wiring.topics
        for topic_filter in (topics.cmd_filter, topics.broadcast_cmd_filter):
            # Live only: a retained `restart` would restart the kiosk at every reconnect, for ever.
            self.listen(topic_filter, self._command_message, qos=1, retained=False)
        self.listen(topics.site_config_set, self._config_message("site"), qos=1)
        self.listen(topics.kiosk_config_set, self._config_message("kiosk"), qos=1)
        self.wiring.link.on_connect(lambda: self.wiring.inbox.post(self.publish_state))

    def publish_state(self) -> None:
        self.wiring.link.publish(self.wiring.topics.kiosk_config_state, self.keeper.state(), retain=True)

    def _command_message(self, topic: str, payload: bytes, properties: Properties | None, _at: float) -> None:
        self.wiring.commands.handle(topic, payload, properties)

    def _config_message(self, scope: Scope) -> Callable[[str, bytes, Properties | None, float], None]:
        def handle(_topic: str, payload: bytes, _props: Properties | None, _at: float) -> None:
            applied = self.keeper.offer(scope, payload)
            self.publish_state()
            if applied:
                log.info("config %s applied from the %s push", self.config.version, scope)
                self.keeper.save(self.wiring.settings.data_dir)
                self._on_config(self.config)
            else:
                log.error("%s", self.keeper.error)

        return handle
