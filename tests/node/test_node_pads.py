"""Pad switches to lift-offs: contact bounce and a member shifting on the pad are one lift-off, never several."""

from kiosk.node.pads import Debounce, SwitchPad
from kiosk.node.settings import PadSwitch
from tests.support.node_parts import PadSwitchPin, mock_pins

HOLD_S = 0.03


def feed(debounce: Debounce, levels: list[tuple[float, bool]]) -> list[tuple[float, bool]]:
    """Sample the raw levels every millisecond, as a fast loop would; the changes that counted, with when."""
    changes, i, now = [], 0, levels[0][0]
    end = levels[-1][0] + 0.2
    while now <= end:
        while i + 1 < len(levels) and levels[i + 1][0] <= now:
            i += 1
        began = debounce.update(levels[i][1], now)
        if began is not None:
            changes.append((round(began, 4), debounce.level))
        now = round(now + 0.001, 4)
    return changes


def test_contact_bounce_on_lifting_and_settling_gives_one_start_and_one_end() -> None:
    chatter_up = [(1.000, True), (1.002, False), (1.003, True), (1.006, False), (1.008, True)]
    chatter_down = [(1.600, False), (1.601, True), (1.604, False), (1.605, True), (1.609, False)]
    changes = feed(Debounce(HOLD_S), [(0.0, False), *chatter_up, *chatter_down])
    # Dated from the first edge of each: when the back actually left the pad, and came back.
    assert changes == [(1.0, True), (1.6, False)]


def test_a_blip_shorter_than_the_hold_is_no_liftoff() -> None:
    changes = feed(Debounce(HOLD_S), [(0.0, False), (0.5, True), (0.52, False)])
    assert changes == []


def test_the_last_edge_of_a_bounce_decides_even_when_it_comes_late() -> None:
    # gpiozero's bounce_time would drop the late closing edge and leave the pad reading lifted.
    changes = feed(Debounce(HOLD_S), [(0.0, False), (1.0, True), (1.01, False), (1.02, True), (1.025, False)])
    assert changes == []


def test_pad_reads_the_switch_through_gpiozero_with_a_pull_up() -> None:
    with mock_pins() as pins:
        pad = SwitchPad("lumbar", PadSwitch(pin=17, debounce_ms=30), pins)
        assert pad.lifted  # nobody on the pad at start: the pull-up holds the line high
        switch = PadSwitchPin(pins, 17, pressed=True)
        assert pad.poll(0.00) is None
        sat = pad.poll(0.04)
        assert sat is not None and (sat.zone, sat.lifted, sat.at) == ("lumbar", False, 0.0)
        switch.change(lifted=True, bounce=True)
        assert pad.poll(1.00) is None
        lifted = pad.poll(1.05)
        assert lifted is not None and lifted.lifted and lifted.at == 1.0
        assert switch.edges > 3  # the switch did chatter
        pad.close()
