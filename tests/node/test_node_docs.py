"""The sensor node's wiring diagram is drawn from the node's own default pins, and the committed SVG is current."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def load_wiring():
    spec = importlib.util.spec_from_file_location("sensor_node_wiring", DOCS / "sensor_node_wiring.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wiring_svg_is_current() -> None:
    wiring = load_wiring()
    assert wiring.SVG.read_text() == wiring.render(), "run .venv/bin/python docs/sensor_node_wiring.py --write"


def test_wiring_shows_the_default_pins() -> None:
    svg = load_wiring().render()
    for text in ("green: A (GPIO23) (pin 16)", "white: B (GPIO24) (pin 18)", "GPIO17 (pin 11)", "GPIO27 (pin 13)",
                 "SDA (pin 3)", "SCL (pin 5)"):
        assert text in svg
