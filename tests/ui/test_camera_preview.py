"""The attract screen's camera box, in the real window: what the camera last saw, or its icon; never a code."""

import numpy
import pytest
import qrcode
from PIL import Image

from kiosk.core.access.camera import decode_image
from kiosk.core.access.scanner import Scanner

pytestmark = pytest.mark.ui


def hold_up(folder, name: str, image: Image.Image) -> None:
    """One camera frame: written aside, then moved in whole, as a camera would hand over a frame."""
    image.save(folder / f".{name}")
    (folder / f".{name}").rename(folder / name)


def card(text: str) -> Image.Image:
    return qrcode.make(text).get_image().convert("RGB").resize((400, 400))


def a_hand() -> Image.Image:
    """A frame with no code in it: a blotchy shape, as a hand or a face would show."""
    pixels = numpy.full((400, 400, 3), 230, dtype=numpy.uint8)
    pixels[120:300, 80:260] = (200, 150, 120)
    pixels[140:160, 100:240:30] = (60, 40, 30)
    return Image.fromarray(pixels, "RGB")


@pytest.fixture
def camera(fresh, tmp_path):
    """The shared kiosk has no camera; a watched folder stands in for one for the test."""
    ui, folder = fresh, tmp_path / "camera"
    folder.mkdir()
    no_camera, camera = ui.kiosk.scanner, Scanner.from_spec(f"files:{folder}", ui.kiosk.scan, idle_wait_s=0.05)
    ui.kiosk.scanner = camera
    camera.start()
    yield camera
    camera.stop()
    ui.kiosk.scanner = no_camera
    ui.driver.until(lambda: not ui.app.screen("attract").live, what="the icon back without a camera")


def no_code_on_screen(ui, tmp_path, shots: int = 4) -> None:
    """Screenshots of the window across several preview ticks: none decodes to a code, with the kiosk's decoder."""
    for n in range(shots):
        ui.driver.wait(0.25)  # the preview refreshes five times a second: each shot a new refresh
        path = ui.driver.screenshot(str(tmp_path / f"screen{n}.png"))
        with Image.open(path) as shot:
            assert decode_image(shot) == [], f"a code on screen in {path}"


def test_what_the_camera_sees_shows_in_the_box_as_a_mosaic(fresh, camera, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    attract = app.screen("attract")
    assert not attract.live and attract.ids.camera_icon.opacity == 1
    hold_up(tmp_path / "camera", "hand.png", a_hand())
    d.until(lambda: attract.live, what="the camera's frame in the box")
    assert attract.ids.camera_image.texture.size == (320, 320)
    assert attract.ids.camera_image.opacity == 1 and attract.ids.camera_icon.opacity == 0

    # A card with a code: read, refused, and never drawn.
    hold_up(tmp_path / "camera", "card.png", card("not-a-member-code"))
    d.until(lambda: attract.feedback and not attract.accepted, what="the card refused")
    d.until(lambda: not attract.live, what="the card's frame not shown")
    no_code_on_screen(ui, tmp_path)


def test_no_frame_of_the_idle_screen_decodes_to_a_staff_code_after_maintenance(fresh, camera, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    attract = app.screen("attract")
    staff = ui.keyring.code("tech", "Robin", role="staff")
    hold_up(tmp_path / "camera", "staff.png", card(staff))
    d.until(lambda: ui.current() == "maintenance", what="maintenance opened by the staff card")
    d.tap(app.screen("maintenance").ids.done)
    d.until(lambda: ui.current() == "attract" and app.mode == "idle", what="back to attract")
    no_code_on_screen(ui, tmp_path)
    assert not attract.live

    # The camera still works for the next member: a frame with no code shows, and still no code does.
    hold_up(tmp_path / "camera", "hand.png", a_hand())
    d.until(lambda: attract.live and camera.frames == 2, what="the next frame in the box")
    no_code_on_screen(ui, tmp_path, shots=2)
