"""Turns what a camera sees into scans: one call per code held up, not one per frame.

Sources and frame decoding live in `kiosk.core.camera`. Keyboard-wedge
scanners and typed codes are already text; they come in through
`Scanner.submit_text`, so they get the same repeat suppression.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from kiosk.core.camera import CameraSource, source_from_spec

log = logging.getLogger(__name__)


class Scanner:
    """Runs a camera source in a worker thread and hands each new code text to `on_text`.

    A text seen again less than `repeat_s` after its previous sighting is the
    same scan: a phone held in front of the camera for ten seconds taps in
    once. The window slides with every sighting, so the code must be out of
    view for `repeat_s` before it counts again. `on_text` runs on the worker
    thread (or the caller's, for `submit_text`) and must hand over, not draw.
    """

    def __init__(
        self,
        source: CameraSource | None,
        on_text: Callable[[str], None],
        repeat_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        idle_wait_s: float = 0.2,
        retry_wait_s: float = 2.0,
    ):
        self.source = source
        self.frames = 0
        self.last_error: str | None = None
        self._on_text = on_text
        self._repeat_s = repeat_s
        self._clock = clock
        self._idle_wait_s = idle_wait_s
        self._retry_wait_s = retry_wait_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_spec(cls, spec: str, on_text: Callable[[str], None], **options: Any) -> "Scanner":
        """A scanner on the source a `LEGPRESS_CAMERA` value names; ValueError if it names none."""
        return cls(source_from_spec(spec), on_text, **options)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Open the camera, then read in the background.

        Opening happens on the caller's thread, so a missing camera raises
        CameraUnavailable there instead of dying quietly in the worker.
        """
        if self.source is None or self.running:
            return
        self.source.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(self.source,), name="scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and release the camera."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def submit_text(self, text: str) -> bool:
        """Offer one scanned text; True if it was a new scan and went to `on_text`."""
        text = text.strip()
        if not text:
            return False
        now = self._clock()
        with self._lock:
            previous = self._seen.get(text)
            # Forget what is out of the window, so a stream of distinct junk cannot grow this.
            self._seen = {seen: at for seen, at in self._seen.items() if now - at < self._repeat_s}
            self._seen[text] = now
        if previous is not None and now - previous < self._repeat_s:
            return False
        self._on_text(text)
        return True

    def preview(self) -> Image.Image | None:
        """The last frame read, small and RGB; None before the first one or without a camera.

        Safe from any thread: the worker replaces the image, never draws on it,
        so a caller may keep it. `frames` says when there is a newer one.
        """
        return self.source.last_frame if self.source is not None else None

    def probe(self) -> str:
        """One line for the maintenance screen's camera test."""
        if self.source is None:
            return "no camera (LEGPRESS_CAMERA=none): codes come from a USB scanner or the keyboard"
        if self.running:
            trouble = f", last error: {self.last_error}" if self.last_error else ""
            return f"{self.source.description}: running, {self.frames} frame(s) read{trouble}"
        return self.source.probe()

    def _run(self, source: CameraSource) -> None:
        try:
            while not self._stop.is_set():
                try:
                    texts = source.scan_once()
                except Exception as exc:  # noqa: BLE001 - a camera hiccup must not end scanning
                    error = f"{type(exc).__name__}: {exc}"
                    # Logged once per distinct error: an unplugged camera would otherwise fill the log.
                    if error != self.last_error:
                        log.warning("%s: %s", source.description, error)
                    self.last_error = error
                    self._stop.wait(self._retry_wait_s)
                    continue
                if texts is None:
                    self._stop.wait(self._idle_wait_s)
                    continue
                self.frames += 1
                self.last_error = None
                for text in texts:
                    try:
                        self.submit_text(text)
                    except Exception:
                        log.exception("scan handler failed")
        finally:
            source.close()
