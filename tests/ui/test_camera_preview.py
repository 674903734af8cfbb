"""The attract screen's camera box, in the real window: what the camera last saw, or its icon."""

import pytest
import qrcode

from kiosk.core.access.scanner import Scanner

pytestmark = pytest.mark.ui


def test_a_card_held_to_the_camera_shows_in_the_camera_box(fresh, tmp_path):
    ui, d, app = fresh, fresh.driver, fresh.app
    attract = app.screen("attract")
    assert not attract.live and attract.ids.camera_icon.opacity == 1  # camera none: the icon
    # The shared kiosk has no camera; a watched folder stands in for one for this test.
    no_camera, camera = ui.kiosk.scanner, Scanner.from_spec(f"files:{tmp_path}", ui.kiosk.scan, idle_wait_s=0.05)
    ui.kiosk.scanner = camera
    camera.start()
    try:
        card = qrcode.make("not-a-member-code").get_image().convert("RGB").resize((400, 400))
        card.save(tmp_path / ".card.png")
        (tmp_path / ".card.png").rename(tmp_path / "card.png")
        d.until(lambda: attract.live, what="the camera's frame in the box")
        assert attract.ids.camera_image.texture.size == (320, 320)
        assert attract.ids.camera_image.opacity == 1 and attract.ids.camera_icon.opacity == 0
        d.until(lambda: attract.feedback and not attract.accepted, what="the card refused")
    finally:
        camera.stop()
        ui.kiosk.scanner = no_camera
    d.until(lambda: not attract.live, what="the icon back without a camera")
    assert attract.ids.camera_icon.opacity == 1
