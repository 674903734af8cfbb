"""Unit `events`: owns `R/kiosk/event`, the kiosk's events for operators and the recorder.

Every kiosk event leaves through here at QoS 1, in the order the core thread
made them. The durable journal (eid, replay) replaces this unit's publish.
"""

from pydantic import BaseModel

from kiosk.core.unit import Unit


class EventStream(Unit):
    """Publishes kiosk events on `R/kiosk/event`."""

    def publish(self, event: BaseModel) -> None:
        self.wiring.link.publish(self.wiring.topics.kiosk_event, event, qos=1)
