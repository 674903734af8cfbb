"""Scanning: real QR images from two libraries, through a watched folder and the scanner thread."""

import io
import queue
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qrcode
import segno
import zxingcpp
from PIL import Image, ImageDraw

from kiosk.core.access.camera import CameraUnavailable, FolderSource, decode_image, preview_image, source_from_spec
from kiosk.core.access.scan_gate import RepeatFilter
from kiosk.core.access.scanner import Scanner
from tests.support.helpers import eventually

CODE = (
    "LP1.eyJzdWIiOiJhbm5hIiwibmFtZSI6IkFubmEiLCJyb2xlIjoibWVtYmVyIiwiaWF0IjoxNzYwMDAwMDAwLjAsImtpZCI6Im1haW4ifQ."
    "c2lnbmF0dXJlLWJ5dGVzLWZvci10ZXN0aW5nLXRoZS1zY2FubmVyLW9ubHktbm90LWEtcmVhbC1zaWduYXR1cmUtYXQtYWxs"
)
WAIT_S = 10


def made_with_qrcode(text: str) -> Image.Image:
    return qrcode.make(text, box_size=8, border=4).get_image().convert("L")


def made_with_segno(text: str) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return Image.open(buffer).convert("L")


def rotated(degrees: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: image.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor=255)


def scaled(factor: float) -> Callable[[Image.Image], Image.Image]:
    def scale(image: Image.Image) -> Image.Image:
        size = (round(image.width * factor), round(image.height * factor))
        return image.resize(size, Image.LANCZOS if factor < 1 else Image.NEAREST)

    return scale


MAKERS = {"qrcode": made_with_qrcode, "segno": made_with_segno}
TRANSFORMS = {
    "upright": lambda image: image,
    "rotated 15": rotated(15),
    "rotated 90": rotated(90),
    "half size": scaled(0.5),
    "double size": scaled(2),
}


class Scans:
    """Collects what the scanner hands over, for a test thread to wait on."""

    def __init__(self) -> None:
        self.queue: queue.Queue[str] = queue.Queue()

    def __call__(self, text: str) -> None:
        self.queue.put(text)

    def next(self, timeout: float = WAIT_S) -> str:
        return self.queue.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            self.queue.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def drop(image: Image.Image, path: Path) -> None:
    """Write an image the way a capture program should: under a hidden name, then rename."""
    hidden = path.with_name("." + path.name)
    image.save(hidden, format=Image.registered_extensions()[path.suffix.lower()])
    hidden.rename(path)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "scans"


@pytest.fixture
def scans() -> Scans:
    return Scans()


@pytest.fixture
def running(inbox: Path, scans: Scans) -> Iterator[Scanner]:
    scanner = Scanner.from_spec(f"files:{inbox}", scans, idle_wait_s=0.02, retry_wait_s=0.05)
    scanner.start()
    yield scanner
    scanner.stop()


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("maker", MAKERS)
def test_code_image_dropped_in_the_folder_is_scanned_and_moved_to_done(running: Scanner, inbox: Path, scans: Scans,
                                                                      maker: str, transform: str):
    drop(TRANSFORMS[transform](MAKERS[maker](CODE)), inbox / "frame.png")
    assert scans.next() == CODE
    eventually(lambda: (inbox / "done" / "frame.png").exists(), what="frame.png moved to done/")
    assert not (inbox / "frame.png").exists()
    eventually(lambda: running.frames == 1, what="1 frame counted")


def test_a_frame_a_code_was_read_from_is_never_previewed_one_without_is_small_rgb_and_coarse(
        running: Scanner, inbox: Path, scans: Scans):
    assert running.preview() is None
    drop(scaled(2)(made_with_qrcode(CODE)), inbox / "frame.png")
    assert scans.next() == CODE
    eventually(lambda: running.frames == 1, what="1 frame counted")
    assert running.preview() is None  # forgotten the moment it was read

    hand = Image.new("RGB", (1200, 900), "white")
    ImageDraw.Draw(hand).ellipse((400, 250, 800, 700), fill=(200, 150, 120))
    drop(hand, inbox / "hand.png")
    eventually(lambda: running.frames == 2, what="2 frames counted")
    preview = running.preview()
    assert preview.mode == "RGB" and preview.width <= 320
    assert preview.getpixel((0, 0)) == (255, 255, 255)  # the white around it, not a black frame


@pytest.mark.parametrize("card_px", [300, 600, 900])
def test_a_code_in_a_frame_the_kiosk_missed_is_not_legible_in_the_preview(card_px: int):
    """Whatever the decoder missed in a frame (a code tilted, blurred, half in view) the mosaic does not show."""
    frame = Image.new("RGB", (1280, 960), "white")
    frame.paste(made_with_qrcode(CODE).convert("RGB").resize((card_px, card_px)), (100, 30))
    assert decode_image(frame) == [CODE]  # legible in the frame itself
    preview = preview_image(frame)
    assert decode_image(preview) == [] and decode_image(preview.resize((1280, 960))) == []


def test_camera_frames_are_previewed_upright_in_rgb_from_bgr_arrays():
    import numpy  # in the test extra, so this test always runs rather than skipping quietly

    bgr = numpy.zeros((720, 1280, 3), dtype=numpy.uint8)
    bgr[:, :, 0] = 255  # pure blue, as OpenCV and picamera2 lay it out
    preview = preview_image(bgr)
    assert preview.size == (320, 180) and preview.getpixel((5, 5)) == (0, 0, 255)


def test_no_camera_has_no_preview():
    assert Scanner(None, lambda _text: None).preview() is None


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".PNG"])
def test_every_supported_image_format_is_scanned(running: Scanner, inbox: Path, scans: Scans, suffix: str):
    drop(made_with_qrcode(CODE), inbox / f"frame{suffix}")
    assert scans.next() == CODE
    eventually(lambda: (inbox / "done" / f"frame{suffix}").exists(), what=f"frame{suffix} moved to done/")


def test_image_without_a_code_goes_to_failed(running: Scanner, inbox: Path, scans: Scans):
    blank = Image.new("L", (400, 300), 255)
    ImageDraw.Draw(blank).text((20, 20), "no code here", fill=0)
    drop(blank, inbox / "blank.png")
    eventually(lambda: (inbox / "failed" / "blank.png").exists(), what="blank.png moved to failed/")
    eventually(lambda: running.frames == 1, what="1 frame counted")
    assert scans.none_within(0.1)


def test_file_that_is_not_an_image_goes_to_failed(running: Scanner, inbox: Path, scans: Scans, caplog):
    (inbox / "broken.png").write_bytes(b"this is not a png at all")
    eventually(lambda: (inbox / "failed" / "broken.png").exists(), what="broken.png moved to failed/")
    assert scans.none_within(0.1)
    assert "broken.png" in caplog.text and "unreadable" in caplog.text


def test_files_that_are_not_images_or_are_hidden_are_left_alone(running: Scanner, inbox: Path, scans: Scans):
    (inbox / "notes.txt").write_text(CODE)
    drop(made_with_segno(CODE), inbox / ".partial.png")
    drop(made_with_segno("after"), inbox / "after.png")
    assert scans.next() == "after"
    assert (inbox / "notes.txt").exists() and (inbox / ".partial.png").exists()


def test_the_camera_reports_every_sighting_and_the_repeat_filter_makes_two_frames_one_scan(
        running: Scanner, inbox: Path, scans: Scans):
    repeats = RepeatFilter(lambda: 3.0)
    drop(made_with_segno(CODE), inbox / "first.png")
    assert scans.next() == CODE and repeats.admit(CODE)
    drop(made_with_qrcode(CODE), inbox / "second.png")
    assert scans.next() == CODE and not repeats.admit(CODE)


def test_a_name_already_in_done_does_not_overwrite_it(running: Scanner, inbox: Path, scans: Scans):
    drop(made_with_segno("one"), inbox / "frame.png")
    assert scans.next() == "one"
    eventually(lambda: (inbox / "done" / "frame.png").exists(), what="frame.png moved to done/")
    drop(made_with_segno("two"), inbox / "frame.png")
    assert scans.next() == "two"
    eventually(lambda: (inbox / "done" / "frame-1.png").exists(), what="frame-1.png moved to done/")


def test_half_written_image_waits_until_it_is_whole(inbox: Path):
    source = FolderSource(inbox)
    source.open()
    buffer = io.BytesIO()
    made_with_segno(CODE).save(buffer, format="PNG")
    whole = buffer.getvalue()
    (inbox / "frame.png").write_bytes(whole[: len(whole) // 2])
    assert source.scan_once() is None
    assert (inbox / "frame.png").exists()
    (inbox / "frame.png").write_bytes(whole)
    assert source.scan_once() == [CODE]
    assert (inbox / "done" / "frame.png").exists()


def test_truncated_image_that_stops_growing_goes_to_failed(inbox: Path):
    source = FolderSource(inbox)
    source.open()
    (inbox / "frame.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert source.scan_once() is None
    assert source.scan_once() == []
    assert (inbox / "failed" / "frame.png").exists()


def test_scanning_goes_on_after_the_folder_disappears_and_returns(running: Scanner, inbox: Path, scans: Scans):
    for leftover in (inbox / "done", inbox / "failed"):
        leftover.rmdir()
    inbox.rmdir()
    eventually(lambda: running.last_error is not None, what="the scanner's error")
    assert "FileNotFoundError" in running.last_error
    assert "last error" in running.probe()
    (inbox / "done").mkdir(parents=True)
    drop(made_with_segno(CODE), inbox / "back.png")
    assert scans.next() == CODE
    assert running.last_error is None


def test_a_failing_receiver_does_not_stop_the_camera(inbox: Path):
    received = Scans()

    def fragile(text: str) -> None:
        received(text)
        if text == "first":
            raise RuntimeError("screen not ready")

    scanner = Scanner.from_spec(f"files:{inbox}", fragile, idle_wait_s=0.02)
    scanner.start()
    try:
        drop(made_with_segno("first"), inbox / "a.png")
        assert received.next() == "first"
        drop(made_with_segno("second"), inbox / "b.png")
        assert received.next() == "second"
    finally:
        scanner.stop()
    assert not scanner.running


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_same_text_within_the_repeat_window_is_one_scan():
    clock = FakeClock()
    repeats = RepeatFilter(lambda: 3.0, clock=clock)
    assert repeats.admit(CODE)
    clock.now += 2
    assert not repeats.admit(CODE)
    clock.now += 2.5  # 4.5 s after the first sighting, but only 2.5 s after the last one
    assert not repeats.admit(CODE)
    clock.now += 3
    assert repeats.admit(CODE)


def test_a_different_text_is_a_new_scan_at_once():
    repeats = RepeatFilter(lambda: 3.0, clock=FakeClock())
    assert repeats.admit("anna")
    assert repeats.admit("bob")
    assert not repeats.admit("anna")


def test_the_repeat_window_is_read_at_each_sighting():
    clock, window = FakeClock(), [3.0]
    repeats = RepeatFilter(lambda: window[0], clock=clock)
    assert repeats.admit("anna")
    clock.now += 1
    window[0] = 0.5  # an operator pushed a shorter `scan_repeat_s`
    assert repeats.admit("anna")


def test_every_source_scans_through_one_entry_with_the_repeat_filter(tmp_path):
    from kiosk.core.kiosk import Kiosk
    from kiosk.core.settings import load_settings

    kiosk = Kiosk(load_settings(site="testgym", machine="lp1", data_dir=tmp_path, trusted_keys=tmp_path))
    assert kiosk.scanner._on_text == kiosk.scan  # the camera's sightings, like wedge and stdin codes
    assert not kiosk.scan("  \n")
    assert kiosk.scan("  anna\n")
    assert not kiosk.scan("anna")


def test_decoding_ignores_barcodes_that_are_not_qr_codes():
    barcode = zxingcpp.create_barcode("HELLO123", zxingcpp.BarcodeFormat.Code128).to_image(scale=4)
    view = memoryview(barcode)
    image = Image.frombytes("L", (view.shape[1], view.shape[0]), view.tobytes())
    assert zxingcpp.read_barcodes(image)[0].text == "HELLO123"
    assert decode_image(image) == []


def test_code_on_a_transparent_background_decodes():
    buffer = io.BytesIO()
    segno.make(CODE).save(buffer, kind="png", scale=6, light=None)
    image = Image.open(buffer)
    assert image.mode in ("LA", "RGBA", "P") or "transparency" in image.info
    assert decode_image(image) == [CODE]


def test_two_codes_in_one_frame_are_both_found():
    left, right = made_with_segno("anna"), made_with_qrcode("bob")
    frame = Image.new("L", (left.width + right.width + 40, max(left.height, right.height)), 255)
    frame.paste(left, (0, 0))
    frame.paste(right, (left.width + 40, 0))
    assert sorted(decode_image(frame)) == ["anna", "bob"]


@pytest.mark.parametrize(
    "spec",
    ["", "webcam", "opencv", "opencv:", "opencv:x", "opencv:-1", "opencv:²", "files:", "files:  ", "picamera",
     "none:1", "NONE"],
)
def test_bad_camera_setting_names_legpress_camera(spec: str):
    with pytest.raises(ValueError, match="LEGPRESS_CAMERA"):
        Scanner.from_spec(spec, print)


def test_no_camera_means_codes_only_come_as_text():
    scanner = Scanner.from_spec("none", print)
    scanner.start()
    assert scanner.source is None and not scanner.running
    assert "keyboard" in scanner.probe()
    scanner.stop()


def test_valid_camera_settings_name_their_source():
    assert source_from_spec("opencv:2").description == "opencv:2"
    assert source_from_spec("picamera2").description == "picamera2"
    assert source_from_spec("files:/tmp/x").description == "files:/tmp/x"


def test_missing_opencv_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    scanner = Scanner.from_spec("opencv:0", print)
    with pytest.raises(CameraUnavailable, match=r"OpenCV.*pip install"):
        scanner.start()
    assert "not working" in scanner.probe() and "OpenCV" in scanner.probe()


def test_missing_picamera2_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)
    scanner = Scanner.from_spec("picamera2", print)
    with pytest.raises(CameraUnavailable, match="--system-site-packages"):
        scanner.start()


def test_probe_reports_a_running_folder_and_a_stopped_one(running: Scanner, inbox: Path, scans: Scans):
    drop(made_with_segno(CODE), inbox / "frame.png")
    scans.next()
    assert "running, 1 frame(s) read" in running.probe()
    running.stop()
    assert running.probe() == f"files:{inbox}: watching, 0 image(s) waiting"
