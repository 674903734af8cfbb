"""Draws docs/sensor-node-wiring.svg: the reference sensor node's parts on a Raspberry Pi's 40-pin header.

The pins come from the node's own defaults (`kiosk.node.settings`), so the drawing and the software cannot
disagree; a test checks the committed SVG is what this script draws.

    .venv/bin/python docs/sensor_node_wiring.py --write
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from kiosk.node.settings import EncoderSled, NodeSettings

SVG = Path(__file__).with_name("sensor-node-wiring.svg")

# Physical header pins the drawing uses, with what they carry.
POWER = {1: "3V3", 2: "5V", 6: "GND", 9: "GND", 14: "GND", 20: "GND", 3: "GPIO2 SDA", 5: "GPIO3 SCL"}
BCM_TO_PHYSICAL = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 23: 16, 24: 18, 25: 22, 5: 29, 6: 31, 13: 33,
                   19: 35, 26: 37, 12: 32, 16: 36, 20: 38, 21: 40, 18: 12, 14: 8, 15: 10, 7: 26, 8: 24, 9: 21,
                   10: 19, 11: 23}

PIN_PITCH = 26
HEADER_X, HEADER_Y = 70, 70
PART_X = 470


@dataclass(frozen=True)
class Wire:
    pin: int  # physical header pin
    terminal: str  # the part's terminal
    colour: str


@dataclass(frozen=True)
class Part:
    title: str
    lines: tuple[str, ...]
    wires: tuple[Wire, ...]


def parts() -> list[Part]:
    encoder = EncoderSled()
    a, b = BCM_TO_PHYSICAL[encoder.pin_a], BCM_TO_PHYSICAL[encoder.pin_b]
    lumbar_bcm = NodeSettings.model_fields["lumbar"].default.pin
    pelvis_bcm = NodeSettings.model_fields["pelvis"].default.pin
    lumbar, pelvis = BCM_TO_PHYSICAL[lumbar_bcm], BCM_TO_PHYSICAL[pelvis_bcm]
    return [
        Part("Draw-wire encoder (NPN open collector)",
             ("e.g. LPD3806-200BM-G5-24C on a 50 mm drum", "A and B pulled up to 3V3 (4.7 kOhm each)"),
             (Wire(2, "red: +5 V", "#c0392b"), Wire(6, "black: 0 V", "#222222"),
              Wire(a, f"green: A (GPIO{encoder.pin_a})", "#27ae60"),
              Wire(b, f"white: B (GPIO{encoder.pin_b})", "#95a5a6"))),
        Part("or VL53L1X time-of-flight (I2C 0x29)",
             ("e.g. Pololu 3415 or Adafruit 3967", "at the rail's foot, looking up at the sled"),
             (Wire(1, "VIN", "#e67e22"), Wire(9, "GND", "#222222"), Wire(3, "SDA", "#2980b9"),
              Wire(5, "SCL", "#f1c40f"))),
        Part("Lumbar pad switch (normally open)",
             ("tape switch under the back pad", "closed while the back rests on it"),
             (Wire(lumbar, f"GPIO{lumbar_bcm}", "#8e44ad"),
              Wire(14, "GND", "#222222"))),
        Part("Seat switch (normally open)", ("tape switch under the seat", "closed while the hips rest on it"),
             (Wire(pelvis, f"GPIO{pelvis_bcm}", "#16a085"),
              Wire(20, "GND", "#222222"))),
    ]


def pin_label(pin: int) -> str:
    return POWER.get(pin) or next(f"GPIO{bcm}" for bcm, phys in BCM_TO_PHYSICAL.items() if phys == pin)


def render() -> str:
    drawn = parts()
    # The header as a list of the pins in use, in header order: each wire leaves its own row, so no wire
    # is ever drawn across a pin it is not on (a 3V3 wire over the 5V pin would be a wiring mistake).
    pins = sorted({w.pin for p in drawn for w in p.wires})
    row_y = {pin: HEADER_Y + 24 + k * PIN_PITCH for k, pin in enumerate(pins)}
    header_h = len(pins) * PIN_PITCH + 14
    parts_h = sum(30 + 18 * len(p.lines) + 22 * len(p.wires) + 18 for p in drawn)
    height = max(HEADER_Y + header_h, HEADER_Y + parts_h) + 50
    right = HEADER_X + 190
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="860" height="{height}" '
           f'viewBox="0 0 860 {height}" font-family="DejaVu Sans, sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           '<text x="20" y="30" font-size="16" font-weight="bold">legpress-node: reference wiring</text>',
           '<text x="20" y="50" fill="#555">Raspberry Pi 40-pin header (physical pin numbers), '
           'the pins in use</text>',
           f'<rect x="{HEADER_X - 40}" y="{HEADER_Y}" width="{right - HEADER_X + 40}" height="{header_h}" '
           'rx="6" fill="#2c3e50"/>']
    for pin in pins:
        y = row_y[pin]
        out.append(f'<circle cx="{HEADER_X - 18}" cy="{y}" r="9" fill="#f1c40f"/>')
        out.append(f'<text x="{HEADER_X - 18}" y="{y + 4}" font-size="9" text-anchor="middle">{pin}</text>')
        out.append(f'<text x="{HEADER_X}" y="{y + 4}" fill="#ffffff">{escape(pin_label(pin))}</text>')
    y, lane = HEADER_Y, 0
    for index, part in enumerate(drawn):
        box_h = 30 + 18 * len(part.lines) + 22 * len(part.wires)
        out.append(f'<rect x="{PART_X}" y="{y}" width="370" height="{box_h}" rx="6" fill="#ecf0f1" '
                   'stroke="#34495e"/>')
        out.append(f'<text x="{PART_X + 10}" y="{y + 18}" font-weight="bold">{escape(part.title)}</text>')
        for k, line in enumerate(part.lines):
            out.append(f'<text x="{PART_X + 10}" y="{y + 36 + 18 * k}" fill="#555">{escape(line)}</text>')
        for k, wire in enumerate(part.wires):
            ty = y + 30 + 18 * len(part.lines) + 22 * k + 8
            py = row_y[wire.pin]
            # Each wire has its own vertical lane between the header and the parts.
            lx = right + 14 + 12 * lane
            lane += 1
            dash = ' stroke-dasharray="6 4"' if index == 1 else ""
            out.append(f'<polyline points="{right},{py} {lx},{py} {lx},{ty} {PART_X},{ty}" fill="none" '
                       f'stroke="{wire.colour}" stroke-width="2.5"{dash}/>')
            out.append(f'<circle cx="{right}" cy="{py}" r="3" fill="{wire.colour}"/>')
            out.append(f'<circle cx="{PART_X}" cy="{ty}" r="3" fill="{wire.colour}"/>')
            out.append(f'<text x="{PART_X + 10}" y="{ty + 4}">{escape(wire.terminal)} (pin {wire.pin})</text>')
        y += box_h + 18
    out.append(f'<text x="20" y="{height - 34}" fill="#555">Dashed: the time-of-flight option, fitted instead '
               'of the encoder. Ground pins are shared; any GND pin will do.</text>')
    out.append(f'<text x="20" y="{height - 16}" fill="#555">Every signal is 3.3 V: never pull a line up to '
               '5 V. Pins are the node\'s defaults (kiosk/node/settings.py).</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {SVG.name} (else print it)")
    args = parser.parse_args(argv)
    if args.write:
        SVG.write_text(render())
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
