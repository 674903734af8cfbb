"""Printable member cards: the QR code large, the member's name and id under it.

The PNG and the SVG share one layout, so what is printed from either looks the same. The one line the
member reads (the title) is in the member's language, from the kiosk's catalogues (`language`: a BCP 47
tag; None or a tag without a catalogue: English).
"""

import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageDraw, ImageFont

from kiosk.host.private_files import private_folder, write_private
from kiosk.words import wording
from kiosk.words.language import speaking

TITLE = wording.CARD_TITLE  # the English title, also the message id of its translations
QUIET_ZONE = 4  # modules; the QR standard's minimum, and what phone cameras expect
TARGET_QR_PX = 640
MARGIN = 48
GAP = 24
TITLE_PX = 40
NAME_PX = 52
ID_PX = 32
PRINT_DPI = 300
# Pillow's built-in font has no em dash and few accented capitals; DejaVu
# (fonts-dejavu-core, installed on Raspberry Pi OS and Debian desktops) has
# them all, and Pillow finds it in the system font folders by name.
CARD_FONT = "DejaVuSans.ttf"


@dataclass(frozen=True)
class _Layout:
    scale: int
    width: int
    height: int
    qr_x: int
    qr_y: int
    name_y: int
    name_px: int
    id_y: int
    title_px: int


def title(language: str | None = None) -> str:
    """The card's title in `language` (a BCP 47 tag; None: English)."""
    with speaking(language):
        return wording.tr(wording.CARD_TITLE)


def _shrunk(text: str, width: int, largest: int) -> int:
    """The type size that fits `text` across the card; 0.6 em is a generous average glyph width."""
    return min(largest, int((width - 2 * MARGIN) / (0.6 * max(len(text), 1))))


def _layout(qr: segno.QRCode, name: str, heading: str) -> _Layout:
    # Whole modules at scale 1: segno types the size as int | float only for the sake of float scales.
    modules = int(qr.symbol_size(scale=1, border=QUIET_ZONE)[0])
    scale = max(4, TARGET_QR_PX // modules)
    qr_px = modules * scale
    width = qr_px + 2 * MARGIN
    # Long names and long titles (Spanish runs longer than English) shrink to the card's width.
    name_px = _shrunk(name, width, NAME_PX)
    qr_y = MARGIN + TITLE_PX + GAP
    name_slot_y = qr_y + qr_px + GAP
    id_y = name_slot_y + NAME_PX + GAP // 2
    name_y = name_slot_y + (NAME_PX - name_px) // 2
    return _Layout(scale, width, id_y + ID_PX + MARGIN, MARGIN, qr_y, name_y, name_px, id_y,
                   _shrunk(heading, width, TITLE_PX))


def _make_qr(code: str) -> segno.QRCode:
    # Level M: a worn or glossy card still reads, and the code stays coarse enough for a cheap camera.
    return segno.make(code, error="m", micro=False)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(CARD_FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def card_png(code: str, member: str, name: str, language: str | None = None) -> bytes:
    """The card as a PNG marked for 300 dpi printing, its title in `language`."""
    qr = _make_qr(code)
    heading = title(language)
    layout = _layout(qr, name, heading)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=layout.scale, border=QUIET_ZONE)
    card = Image.new("L", (layout.width, layout.height), "white")
    card.paste(Image.open(buffer).convert("L"), (layout.qr_x, layout.qr_y))
    draw = ImageDraw.Draw(card)
    middle = layout.width // 2
    draw.text((middle, MARGIN), heading, fill="black", anchor="mt", font=_font(layout.title_px))
    draw.text((middle, layout.name_y), name, fill="black", anchor="mt", font=_font(layout.name_px))
    draw.text((middle, layout.id_y), member, fill=96, anchor="mt", font=_font(ID_PX))
    out = io.BytesIO()
    card.save(out, format="PNG", dpi=(PRINT_DPI, PRINT_DPI))
    return out.getvalue()


def card_svg(code: str, member: str, name: str, language: str | None = None) -> str:
    """The card as a standalone SVG document, segno's QR code inside, its title in `language`."""
    qr = _make_qr(code)
    heading = title(language)
    layout = _layout(qr, name, heading)
    symbol = qr.svg_inline(scale=layout.scale, border=QUIET_ZONE)
    middle = layout.width // 2

    def text(y: int, size: int, fill: str, content: str) -> str:
        return (
            f'<text x="{middle}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="middle" '
            f'dominant-baseline="hanging">{escape(content)}</text>'
        )

    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width}" height="{layout.height}" '
        f'viewBox="0 0 {layout.width} {layout.height}" font-family="sans-serif">\n'
        f'<rect width="100%" height="100%" fill="#fff"/>\n'
        f"{text(MARGIN, layout.title_px, '#000', heading)}\n"
        f'<g transform="translate({layout.qr_x} {layout.qr_y})">{symbol}</g>\n'
        f"{text(layout.name_y, layout.name_px, '#000', name)}\n"
        f"{text(layout.id_y, ID_PX, '#606060', member)}\n"
        "</svg>\n"
    )


def write_cards(code: str, member: str, name: str, out_dir: str | Path,
                language: str | None = None) -> tuple[Path, Path]:
    """Write `<member>.png` and `<member>.svg` into `out_dir`; a re-issued card replaces the old one.

    A card is a bearer credential (a photo of it works as well): 0600 files, and a 0700 folder if this
    makes it.
    """
    out_dir = private_folder(Path(out_dir))
    png, svg = out_dir / f"{member}.png", out_dir / f"{member}.svg"
    write_private(png, card_png(code, member, name, language))
    write_private(svg, card_svg(code, member, name, language).encode("utf-8"))
    return png, svg
