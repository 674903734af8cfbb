"""A printed card seen by the camera opens a session: image file -> zxing-cpp -> signature -> broker."""

import pytest
import qrcode
from PIL import Image

from kiosk.contract.events import ScanRejected, SessionStart
from tests.support.kiosk_harness import Keyring, make_kiosk


def _card_by_other_library(code: str, angle: float, scale: float) -> Image.Image:
    """A QR image made with the `qrcode` package (not segno, which the operators' tool uses)."""
    img = qrcode.make(code, box_size=6, border=4).convert("L")
    img = img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.NEAREST)
    return img.rotate(angle, expand=True, fillcolor=255)


@pytest.mark.parametrize("angle,scale", [(0, 1.0), (17, 1.6), (90, 0.8), (-33, 2.0)])
def test_card_dropped_into_camera_folder_starts_a_session_on_the_broker(broker, collect, tmp_path, angle, scale):
    keyring = Keyring(tmp_path)
    camera = tmp_path / "camera"
    camera.mkdir()
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, _ = make_kiosk(broker.url, tmp_path / "data", keyring, camera=f"files:{camera}")
    kiosk.start()
    try:
        code = keyring.code("m_cam", "Cam")
        _card_by_other_library(code, angle, scale).save(camera / "card.png")
        assert events.wait_for_event(SessionStart, timeout=15).member == "m_cam"
        assert (camera / "done" / "card.png").exists()
    finally:
        kiosk.stop()


def test_a_forged_card_is_refused_with_its_reason(broker, collect, tmp_path):
    keyring, stranger = Keyring(tmp_path / "ours"), Keyring(tmp_path / "theirs", kid="desk")
    camera = tmp_path / "camera"
    camera.mkdir()
    events = collect("gym/v1/testgym/lp1/kiosk/event")
    kiosk, screen = make_kiosk(broker.url, tmp_path / "data", keyring, camera=f"files:{camera}")
    kiosk.start()
    try:
        _card_by_other_library(stranger.code("m_fake", "Fake"), 0, 1.0).save(camera / "forged.png")
        assert events.wait_for_event(ScanRejected, timeout=15).reason == "bad_signature"
        assert kiosk.session is None
    finally:
        kiosk.stop()
