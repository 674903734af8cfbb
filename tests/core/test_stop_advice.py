"""Which suggestions a stopped set gets: only those the member's settings still allow."""

from kiosk.contract.config import MachineGeometry
from kiosk.contract.profile import MachineSettings
from kiosk.core.machine.advice import FEET_HIGHER, LESS_WEIGHT, RECLINE, SHORTER_REPS, stop_suggestions

SETTINGS = MachineSettings(backrest_notch=3, foot_height="mid", target_depth_mm=200, max_depth_mm=250, top_mm=30)


def test_every_suggestion_while_each_setting_can_still_move():
    assert stop_suggestions(SETTINGS, MachineGeometry()) == [RECLINE, FEET_HIGHER, LESS_WEIGHT, SHORTER_REPS]


def test_no_recline_at_the_most_reclined_notch_whichever_number_it_has():
    assert RECLINE not in stop_suggestions(SETTINGS.model_copy(update={"backrest_notch": 1}), MachineGeometry())
    upright_first = MachineGeometry(backrest_angles_deg=[60, 50, 40])  # notch 3 is the most reclined here
    assert RECLINE in stop_suggestions(SETTINGS.model_copy(update={"backrest_notch": 1}), upright_first)
    assert RECLINE not in stop_suggestions(SETTINGS, upright_first)
    assert RECLINE not in stop_suggestions(SETTINGS.model_copy(update={"backrest_notch": 1}),
                                           MachineGeometry(backrest_angles_deg=[45]))


def test_no_feet_higher_when_they_are_already_high():
    assert stop_suggestions(SETTINGS.model_copy(update={"foot_height": "high", "backrest_notch": 1}),
                            MachineGeometry()) == [LESS_WEIGHT, SHORTER_REPS]
