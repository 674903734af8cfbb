"""Turns what a camera sees into scans: one call per code held up, not one per frame.

Sources and frame decoding live in `kiosk.core.access.camera`. Every sighting goes
to `on_text` (`Kiosk.scan`), whose repeat filter (`kiosk.core.access.scan_gate`)
makes a card held up for ten seconds one scan, the same filter keyboard-wedge
scanners and typed codes go through.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.core.access.camera import CameraSource, source_from_spec

if TYPE_CHECKING:
    # Pillow (and numpy with it) is loaded by the first camera frame, not at start-up.
    from PIL import Image

log = logging.getLogger(__name__)


class Scanner:
    """Runs a camera source in a worker thread and hands every code text it sees to `on_text`.

    `on_text` runs on the worker thread and must hand over, not draw. The
    preview (`preview`) can be forgotten, so a card held up by a member who
    has left is not shown to the next one.
    """

    def __init__(
        self,
        source: CameraSource | None,
        on_text: Callable[[str], object],
        idle_wait_s: float = 0.2,
        retry_wait_s: float = 2.0,
    ):
        self.source = source
        self.frames = 0
        self.last_error: str | None = None
        self._on_text = on_text
        self._preview_hidden_to = -1  # frames up to this one are not shown any more
        self._idle_wait_s = idle_wait_s
        self._retry_wait_s = retry_wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_spec(cls, spec: str, on_text: Callable[[str], object], **options: Any) -> Scanner:
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

    def preview(self) -> Image.Image | None:
        """The last frame read, small and RGB; None before the first one or without a camera.

        Safe from any thread: the worker replaces the image, never draws on it,
        so a caller may keep it. `frames` says when there is a newer one.
        """
        if self.source is None or self.frames <= self._preview_hidden_to:
            return None
        return self.source.last_frame

    def forget_preview(self) -> None:
        """Show no frame read so far: the next member must not see the last one's card."""
        self._preview_hidden_to = self.frames

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
                        self._on_text(text.strip())
                    except Exception:
                        log.exception("scan handler failed")
        finally:
            source.close()
