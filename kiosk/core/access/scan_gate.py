"""One scan per code held up, whatever read it: the camera, a keyboard-wedge scanner, stdin.

Every source hands each sighting of a code to `Kiosk.scan`, which asks this
filter first; a camera sees the same card in every frame, and a wedge scanner
may read a card twice in a quarter of a second. Either would otherwise log
the member straight back out.
"""

import threading
import time
from collections.abc import Callable


class RepeatFilter:
    """A text seen again less than `repeat_s()` after its previous sighting is the same scan.

    The window slides with every sighting, so the code must be out of view for
    `repeat_s()` before it counts again. `repeat_s` is read at each sighting,
    so a pushed `scan_repeat_s` applies at once. Safe from any thread.
    """

    def __init__(self, repeat_s: Callable[[], float], clock: Callable[[], float] = time.monotonic) -> None:
        self._repeat_s = repeat_s
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, text: str) -> bool:
        """True if `text` is a new scan; every call counts as a sighting."""
        now, window = self._clock(), self._repeat_s()
        with self._lock:
            previous = self._seen.get(text)
            # Forget what is out of the window, so a stream of distinct junk cannot grow this.
            self._seen = {seen: at for seen, at in self._seen.items() if now - at < window}
            self._seen[text] = now
        return previous is None or now - previous >= window
