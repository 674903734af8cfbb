"""The kiosk core driven one input at a time on the test's thread: no broker, no core thread, a fake clock.

For model-based tests that interleave thousands of inputs and must replay a failure exactly. The core is
the real `Kiosk`, built and started as the app does (its units register their topics and open their
files), but its link never connects and its inbox's thread never runs. Every input still goes in the
way it does in a gym: MQTT payloads to the handlers the units subscribed, the screen's inputs through
`Kiosk`'s thread-safe methods, and `run()` then handles what they queued, in order, here. An exception a
job raises is not swallowed by the inbox's guard: it fails the test, with its traceback.

It reaches into `Inbox` and `MqttLink` (their queue and subscriptions) because that is the seam a thread
and a socket normally sit at; nothing of the kiosk's own logic is replaced.
"""

import queue
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import BaseModel

from kiosk.contract.base import encode
from kiosk.contract.topics import member_profiles_filter
from kiosk.core.kiosk import Kiosk
from kiosk.core.settings import load_settings
from tests.support.helpers import FakeClock
from tests.support.kiosk_harness import Keyring, Screen


class SteppedKiosk(Kiosk):
    """A started `Kiosk` whose inputs are handled when the test calls `run()` and whose clock ticks on `tick()`."""

    def __init__(self, data_dir: Path, keyring: Keyring, clock: FakeClock, **tuning: Any) -> None:
        settings = load_settings(site="testgym", machine="lp1", broker="mqtt://127.0.0.1:9", data_dir=data_dir,
                                 trusted_keys=keyring.trusted, tuning={"scan_repeat_s": 0, **tuning})
        super().__init__(settings, clock=clock)
        self.fake_clock = clock
        self.keyring = keyring
        self.screen = Screen()
        self.observe(self.screen)

    def start(self) -> None:
        """The units' own start (topics, files), without the link, the core thread, the camera or a player."""
        self.keys.reload()
        for unit in self.units:
            unit.start()
        # Profiles are filed on this thread (`deliver`), in order, instead of on the intake's own.
        intake = self.profiles._intake
        if intake is not None:
            intake.stop()

    def stop(self) -> None:
        for unit in reversed(self.units):
            unit.stop()

    # -- inputs -------------------------------------------------------------------

    def deliver(self, topic: str, payload: bytes | BaseModel) -> None:
        """An MQTT message as the broker would hand it over, then handled."""
        data = encode(payload) if isinstance(payload, BaseModel) else payload
        if mqtt.topic_matches_sub(member_profiles_filter(self.settings.site), topic):
            self.profiles._file(topic, data)
        else:
            handlers = [sub.handler for sub in self.link._subs if mqtt.topic_matches_sub(sub.topic_filter, topic)]
            assert handlers, f"no unit listens on {topic}"
            for handler in handlers:
                handler(topic, data, None)
        self.run()

    def run(self) -> None:
        """Handle every queued input on this thread, each followed by the inbox's settle (the snapshot)."""
        inbox = self.inbox
        while True:
            try:
                job = inbox._queue.get_nowait()
            except queue.Empty:
                return
            if job is None:
                continue
            job()
            if inbox._on_settled is not None:
                inbox._on_settled()

    def tick(self, seconds: float = 0.0) -> None:
        """Move the fake clock on, then the core's tick at its time (units, training, modes, snapshot)."""
        if seconds:
            self.fake_clock.advance(seconds)
        self.run()
        self.inbox._on_tick(self.clock.now())
