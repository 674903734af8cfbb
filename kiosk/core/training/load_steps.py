"""The plates' grid a load moves on: 2.5 kg steps, or 5 lb steps where the site shows pounds.

A load is always kept in kilograms (the profile, the events); pounds are a way of showing and stepping it.
A load stepped in pounds lands on the pound grid (whole 5 lb plates' worth), so 100 lb stays 100 lb however
often it goes to kilograms and back.
"""

from kiosk.contract.config import KG_PER_LB, LoadUnit

# The smallest plates on a plate-loaded sled go on in pairs: 2 x 1.25 kg, or 2 x 2.5 lb.
STEP = {"kg": 2.5, "lb": 5.0}
MAX_LOAD_KG = 1000.0  # the contract's ceiling


def kg_per(unit: LoadUnit) -> float:
    return 1.0 if unit == "kg" else KG_PER_LB


def step_kg(unit: LoadUnit) -> float:
    """One step of the stepper, in kilograms."""
    return STEP[unit] * kg_per(unit)


def stepped_load(current_kg: float | None, steps: int, unit: LoadUnit = "kg") -> float | None:
    """The load `steps` plates' worth from `current_kg`, on the unit's grid; None (no load told) below one step."""
    grid = round((current_kg or 0.0) / step_kg(unit))
    shown = (grid + steps) * STEP[unit]
    load = min(MAX_LOAD_KG, round(shown * kg_per(unit), 4))
    return load if shown >= STEP[unit] else None
