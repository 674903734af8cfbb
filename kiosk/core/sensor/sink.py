"""Where the sensor unit hands what it believed: declared here, implemented by the training part.

The sensor unit sits below training in the core's layers, so it names what it needs of its
consumer as a Protocol instead of importing it; the kiosk builds the sink first and gives it
to the unit's constructor, so nothing is bound late.
"""

from typing import Protocol

from kiosk.contract.sensor import DepthSample, LiftoffEvent


class SensorSink(Protocol):
    """What the sensor unit tells, on the core thread, in the order it believed it."""

    def depth(self, sample: DepthSample, received_at: float) -> None:
        """A believed depth sample, calibrated to true millimetres; `received_at` on the kiosk clock."""

    def liftoff(self, event: LiftoffEvent, received_at: float) -> None:
        """A believed lift-off event: the safety signal, told even while depth is refused or silent."""

    def sensor_restarted(self) -> None:
        """The node's stream started afresh (a new stream took over): times before and after differ."""

    def session_id(self) -> str | None:
        """The session the sensor's faults belong to, if a member is at the machine."""
