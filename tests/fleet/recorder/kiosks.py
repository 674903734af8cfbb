"""What the recorder's and the reports' tests share: both engines, kiosks that publish, one wait helper.

The kiosks here publish contract-model events directly with paho (QoS 1, an
`eid` that grows by one), as many as a test needs, faster than a full kiosk.
"""

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from pydantic import BaseModel

from kiosk.contract.base import encode
from kiosk.contract.events import CueRaised, PainReport, RepDone, SensorFault, SessionEnd, SessionStart, SetEnd
from kiosk.contract.kiosk import KioskStatus
from kiosk.contract.topics import MachineTopics
from kiosk.dev.broker import Broker

SITE = "testgym"


def eventually(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """The predicate's first truthy value within `timeout`, polled; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {value!r})")
        time.sleep(0.05)


@dataclass
class FakeKiosk:
    """One machine publishing QoS 1 events with a growing `eid`, and its retained status; keeps what it sent."""

    broker: Broker
    machine: str
    site: str = SITE
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.topics = MachineTopics(self.site, self.machine)
        self._eid = itertools.count(1)
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fake-kiosk-{self.site}-{self.machine}",
                                   protocol=MQTTProtocolVersion.MQTTv5)
        # The broker may be restarted under it: paho queues and resends, as the kiosk's link does.
        self._client.max_inflight_messages_set(100)
        self._client.connect(self.broker.host, self.broker.port)
        self._client.loop_start()

    def event(self, event: BaseModel, eid: bool = True) -> dict[str, Any]:
        """Publish one event; returns it as sent (with its eid)."""
        fields = event.model_dump(mode="json", by_alias=True)
        if eid:
            fields["eid"] = next(self._eid)
        self.publish(self.topics.kiosk_event, fields)
        with self._lock:
            self.sent.append(fields)
        return fields

    def status(self, mode: str, ts: float, state: str = "ready") -> None:
        status = KioskStatus(state=state, mode=mode, ts=ts, version="0.1.0", boot=1)
        self._pending.append(self._client.publish(self.topics.kiosk_status, encode(status), qos=1, retain=True))

    def publish(self, topic: str, fields: dict[str, Any] | bytes, retain: bool = False) -> None:
        payload = fields if isinstance(fields, bytes) else json.dumps(fields).encode()
        self._pending.append(self._client.publish(topic, payload, qos=1, retain=retain))

    def flush(self, timeout: float = 15.0) -> None:
        """Wait until the broker has acknowledged everything published."""
        for info in self._pending:
            info.wait_for_publish(timeout)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._client.disconnect()
        self._client.loop_stop()


def workout(kiosk: FakeKiosk, member: str, session: str, start: float, reps: list[int],
            cues: dict[tuple[int, int], str] | None = None, pain: str | None = None,
            loads: list[float] | None = None) -> float:
    """Publish one member session: `reps[i]` reps in set i+1, a cue where `cues[(set, rep)]` names one,
    an optional pain report; returns the time it ended. Depths vary so the deepest rep is known.

    With `loads` (kg per set), the training record too: each rep's push slows by 0.02 m/s from 0.60 m/s,
    each set says its load and best velocity, the session its volume.
    """
    cues = cues or {}
    t = start
    kiosk.event(SessionStart(ts=t, session=session, member=member, role="member"))
    for set_number, count in enumerate(reps, start=1):
        liftoffs = 0
        load = loads[set_number - 1] if loads else None
        for rep in range(1, count + 1):
            t += 3.0
            figures = {} if load is None else {
                "mean_velocity_mps": rep_velocity(rep), "peak_velocity_mps": round(rep_velocity(rep) * 1.4, 3),
                "rom_mm": 170.0 + rep, "power_w": round(load * 9.81 * 0.707 * rep_velocity(rep), 1)}
            kiosk.event(RepDone(ts=t, session=session, rep=rep, depth_mm=200.0 + 7 * rep + set_number,
                                eccentric_s=2.0, concentric_s=1.0, **figures))
            if (set_number, rep) in cues:
                cue = cues[(set_number, rep)]
                liftoffs += cue.startswith("liftoff")
                kiosk.event(CueRaised(ts=t + 0.5, session=session, cue=cue, severity="warn", rep=rep))
        t += 5.0
        record = {} if load is None else {
            "load_kg": load, "best_mean_velocity_mps": rep_velocity(1), "tut_s": 3.0 * count,
            "velocity_loss_pct": round(100 * (1 - rep_velocity(count) / rep_velocity(1)), 1)}
        kiosk.event(SetEnd(ts=t, session=session, set_number=set_number, reps=count,
                           max_depth_mm=200.0 + 7 * count + set_number, liftoffs=liftoffs, **record))
    if pain:
        t += 1.0
        kiosk.event(PainReport(ts=t, session=session, member=member, kind=pain))
    t += 10.0
    volume = sum(load * count for load, count in zip(loads, reps, strict=True)) if loads else None
    kiosk.event(SessionEnd(ts=t, session=session, reason="logout", sets=len(reps), reps=sum(reps), member=member,
                           volume_kg=volume))
    return t


def rep_velocity(rep: int) -> float:
    """The mean concentric velocity of rep `rep` in a `workout` with loads."""
    return round(0.60 - 0.02 * (rep - 1), 3)


def sensor_fault(kiosk: FakeKiosk, ts: float) -> None:
    kiosk.event(SensorFault(ts=ts, fault="stale", detail="no depth for 2 s"))
