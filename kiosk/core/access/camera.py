"""Where scanned QR codes come from: camera sources and frame decoding.

`LEGPRESS_CAMERA` picks one source:
- `picamera2`: the Pi camera. picamera2 comes from Raspberry Pi OS
  (`apt install python3-picamera2`), not from PyPI, so on the Pi the venv
  must be made with `--system-site-packages` to see it;
- `opencv:<index>`: a USB webcam through OpenCV (`pip install 'legpress-kiosk[opencv]'`);
- `files:<dir>`: each image that appears in a folder (development, tests, or
  another capture program);
- `none`: no camera; codes come from a keyboard-wedge scanner or are typed.

The camera libraries are imported only when their source opens, so a kiosk
without them starts, and one configured for them says what is missing. Pillow
(which brings numpy) and zxing are imported by the first frame, on the camera's
thread: they are half a second of a kiosk's start-up, which comes first.
"""

from __future__ import annotations

import logging
import os
import stat
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.core.settings import parse_camera

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"})
PI_CAMERA_SIZE = (1280, 720)
# The attract screen's live view: small enough to copy into a texture a few times a second on a Pi.
PREVIEW_WIDTH = 320
# A QR code held up to a camera needs well under a megapixel (a 1080p frame is 2). Past this an
# image is not decoded at all: a small file can declare a huge image (a 46 KB PNG of 13000x13000
# took a kiosk to 905 MB), so the size is read from the header before any pixel.
MAX_FOLDER_PIXELS = 6_000_000
MAX_FOLDER_FILE_BYTES = 32 * 2**20


class CameraUnavailable(RuntimeError):
    """The configured camera cannot be opened; the message says what to install or plug in."""


def decode_image(image: Image.Image | Any) -> list[str]:
    """Texts of the QR codes in one frame, each once, in the order found.

    `image` is a PIL image or a numpy array (grayscale, or BGR as OpenCV and
    picamera2's RGB888 give). Only QR codes are looked for: other barcode
    kinds would only add false reads from a camera pointed at a gym.
    """
    import zxingcpp
    from PIL import Image

    if isinstance(image, Image.Image):
        image = _luminance(image)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return list(dict.fromkeys(code.text for code in found if code.text))


def _luminance(image: Image.Image) -> Image.Image:
    if image.mode == "L":
        return image
    return _on_white(image).convert("L")


def _on_white(image: Image.Image) -> Image.Image:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels are black underneath; a code printed on "nothing" is dark on white.
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image


def preview_image(frame: Image.Image | Any) -> Image.Image:
    """A new small RGB copy of a frame (PIL image, or numpy array grayscale or BGR) for the screen."""
    from PIL import Image

    if isinstance(frame, Image.Image):
        image = _on_white(frame).convert("RGB")
        if image.width > PREVIEW_WIDTH:
            image.thumbnail((PREVIEW_WIDTH, image.height))
        return image
    # Every n-th pixel of the array before converting: far cheaper than resizing a full frame.
    step = -(-frame.shape[1] // PREVIEW_WIDTH)
    small = frame[::step, ::step]
    if small.ndim == 3:
        return Image.fromarray(small[:, :, 2::-1].copy(), "RGB")
    return Image.fromarray(small.copy()).convert("RGB")


class CameraSource(ABC):
    """One place frames come from. The Scanner's worker thread calls `scan_once` in a loop."""

    description = ""
    # The last frame read, from `preview_image`: replaced by the worker thread, never changed in place.
    last_frame: Image.Image | None = None

    def open(self) -> None:  # noqa: B027 - optional hook, a no-op for sources with nothing to open
        """Get the device ready; raises CameraUnavailable with what to do about it."""

    @abstractmethod
    def scan_once(self) -> list[str] | None:
        """Decode one frame: its code texts, or None when there was no frame to look at."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op for sources with nothing to release
        """Release the device; safe to call more than once."""

    def _keep_preview(self, frame: Image.Image | Any) -> None:
        try:
            self.last_frame = preview_image(frame)
        except Exception:
            log.debug("%s: no preview of this frame", self.description, exc_info=True)

    def probe(self) -> str:
        """Open, read one frame and close: the maintenance screen's camera test."""
        try:
            self.open()
            try:
                texts = self.scan_once()
            finally:
                self.close()
        except Exception as exc:  # noqa: BLE001 - the test reports any failure as text
            return f"{self.description}: not working: {exc}"
        seen = f", sees {len(texts)} code(s)" if texts else ""
        return f"{self.description}: working, read a frame{seen}"


class FolderSource(CameraSource):
    """`files:<dir>`: decode each image file that appears in a folder, then move it aside.

    A decoded file goes to `<dir>/done/`, one with no code or that cannot be
    read to `<dir>/failed/` (the log says why). Only regular files are read:
    a symlink (it could point at any file the kiosk can read) or a FIFO or
    device is moved to `failed/` unopened, and so is an image declaring more
    than `MAX_FOLDER_PIXELS` or a file over `MAX_FOLDER_FILE_BYTES`, so memory
    stays flat whatever lands in the folder; `refused` counts them. A file
    still being written is left alone: it is taken once it reads as a whole
    image, or, if it never does, once its size and time stay the same between
    two polls. Writers that can should write under a hidden name (`.name`) and
    rename, which is never half seen.
    """

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.done = self.directory / "done"
        self.failed = self.directory / "failed"
        self.description = f"files:{self.directory}"
        self._last_seen: dict[str, tuple[int, int]] = {}
        self._stuck: set[str] = set()
        self.refused = 0  # entries moved aside unread: not a regular file, too large, too many pixels

    def open(self) -> None:
        try:
            self.done.mkdir(parents=True, exist_ok=True)
            self.failed.mkdir(exist_ok=True)
        except OSError as exc:
            raise CameraUnavailable(f"{self.description}: cannot use the folder: {exc}") from None

    def scan_once(self) -> list[str] | None:
        waiting = self._waiting()
        self._last_seen = {name: sig for name, sig in self._last_seen.items() if name in waiting}
        for path in waiting.values():
            texts = self._take(path)
            if texts is not None:
                return texts
        return None

    def probe(self) -> str:
        if not self.directory.is_dir():
            return f"{self.description}: not working: the folder does not exist"
        return f"{self.description}: watching, {len(self._waiting())} image(s) waiting"

    def _waiting(self) -> dict[str, Path]:
        """Entries with an image's name in the folder, oldest first: links and devices too, to be refused."""
        found = []
        # A folder that went away raises: the scanner reports it and tries again.
        for entry in list(os.scandir(self.directory)):
            name = entry.name
            if name.startswith(".") or name in self._stuck or Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode):
                found.append((info.st_mtime_ns, name, Path(entry.path)))
        return {name: path for _, name, path in sorted(found)}

    def _take(self, path: Path) -> list[str] | None:
        try:
            # O_NOFOLLOW: a symlink fails to open instead of opening what it points to;
            # O_NONBLOCK: a FIFO opens at once instead of waiting for a writer.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return self._refuse(path, f"not opened ({'a symbolic link' if path.is_symlink() else exc.strerror})")
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                return self._refuse(path, "not a regular file")
            if info.st_size > MAX_FOLDER_FILE_BYTES:
                return self._refuse(path, f"{info.st_size} bytes, over the {MAX_FOLDER_FILE_BYTES} a frame may have")
            signature = (info.st_size, info.st_mtime_ns)
            settled = self._last_seen.get(path.name) == signature
            self._last_seen[path.name] = signature
            try:
                from PIL import Image

                with Image.open(file) as image:
                    # Image.open has read the header only: refuse before a single pixel is decoded.
                    width, height = image.size
                    if width * height > MAX_FOLDER_PIXELS:
                        return self._refuse(path, f"{width}x{height} pixels, over the {MAX_FOLDER_PIXELS} "
                                            "a frame may have")
                    image.load()
                    texts = decode_image(image)
                    self._keep_preview(image)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is the writer's problem, not ours
                if not settled:
                    return None
                self._move(path, self.failed, f"unreadable image ({type(exc).__name__}: {exc})")
                return []
        if texts:
            self._move(path, self.done, f"{len(texts)} code(s)")
        else:
            self._move(path, self.failed, "no QR code found")
        return texts

    def _refuse(self, path: Path, why: str) -> list[str]:
        self.refused += 1
        self._move(path, self.failed, f"refused unread: {why}")
        return []

    def _move(self, path: Path, folder: Path, why: str) -> None:
        target = folder / path.name
        n = 0
        while target.exists() or target.is_symlink():
            n += 1
            target = folder / f"{path.stem}-{n}{path.suffix}"
        try:
            path.rename(target)
        except OSError as exc:
            # Left in place it would be decoded again on every poll.
            self._stuck.add(path.name)
            log.error("cannot move %s to %s/ (%s); ignoring it from now on", path, folder.name, exc)
            return
        self._last_seen.pop(path.name, None)
        log.log(logging.INFO if folder == self.done else logging.WARNING, "%s -> %s/: %s", path.name, folder.name, why)


class OpenCvSource(CameraSource):
    """`opencv:<index>`: a USB webcam. A camera that stops giving frames is reopened on the next try."""

    def __init__(self, index: int):
        self.index = index
        self.description = f"opencv:{index}"
        self._cv2: Any = None
        self._capture: Any = None

    def open(self) -> None:
        try:
            import cv2
        except ImportError:
            raise CameraUnavailable(
                f"LEGPRESS_CAMERA={self.description} needs OpenCV, which is not installed: "
                "pip install 'legpress-kiosk[opencv]' (opencv-python-headless)"
            ) from None
        self._cv2 = cv2
        self._reopen()

    def _reopen(self) -> None:
        capture = self._cv2.VideoCapture(self.index)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"{self.description}: no camera at index {self.index} (is it plugged in?)")
        self._capture = capture

    def scan_once(self) -> list[str] | None:
        if self._capture is None:
            self._reopen()
        ok, frame = self._capture.read()
        if not ok or frame is None:
            self.close()
            raise CameraUnavailable(f"{self.description}: the camera stopped giving frames (unplugged?)")
        self._keep_preview(frame)
        return decode_image(frame)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class PiCameraSource(CameraSource):
    """`picamera2`: the Raspberry Pi camera.

    picamera2 is a Raspberry Pi OS package (`python3-picamera2`): on the Pi
    the kiosk's venv must be created with `--system-site-packages` to import it.
    """

    description = "picamera2"

    def __init__(self) -> None:
        self._camera: Any = None

    def open(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError as exc:
            raise CameraUnavailable(
                f"LEGPRESS_CAMERA=picamera2 needs the picamera2 library, which cannot be imported ({exc}): "
                "on Raspberry Pi OS run `apt install python3-picamera2` and create the venv with "
                "--system-site-packages"
            ) from None
        try:
            camera = Picamera2()
            # RGB888 is BGR in memory, the layout decode_image takes from OpenCV too.
            camera.configure(camera.create_video_configuration(main={"format": "RGB888", "size": PI_CAMERA_SIZE}))
            camera.start()
        except Exception as exc:  # noqa: BLE001 - libcamera raises many kinds; all mean "no camera"
            raise CameraUnavailable(f"picamera2: no usable camera ({type(exc).__name__}: {exc})") from None
        self._camera = camera

    def scan_once(self) -> list[str] | None:
        frame = self._camera.capture_array("main")
        self._keep_preview(frame)
        return decode_image(frame)

    def close(self) -> None:
        if self._camera is not None:
            camera, self._camera = self._camera, None
            camera.stop()
            camera.close()


def source_from_spec(spec: str) -> CameraSource | None:
    """The source a `LEGPRESS_CAMERA` value names (None for `none`), without opening it."""
    kind, arg = parse_camera(spec)
    match kind:
        case "picamera2":
            return PiCameraSource()
        case "opencv":
            return OpenCvSource(int(arg))
        case "files":
            return FolderSource(arg)
    return None
