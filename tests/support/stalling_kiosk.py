"""`legpress-kiosk --headless` with one fault a test can inject: SIGUSR1 wedges the core thread.

For the watchdog test: the core thread blocks in a job that never returns, as a deadlock or an
endless loop in a handler would, while the process, its paho thread and everything else live on.
"""

import signal
import sys
import threading

from kiosk import app
from kiosk.core.kiosk import Kiosk

_start = Kiosk.start
WEDGED = "stalling kiosk: the core thread is wedged"


def _start_with_a_wedge(kiosk: Kiosk) -> None:
    _start(kiosk)
    never = threading.Event()

    def wedge() -> None:
        print(WEDGED, flush=True)  # for the test: from here on the core thread sends nothing
        never.wait()

    # Signal handlers run on the main thread; the wedge itself is a job on the core thread.
    signal.signal(signal.SIGUSR1, lambda *_: kiosk.inbox.post(wedge))


if __name__ == "__main__":
    Kiosk.start = _start_with_a_wedge  # type: ignore[method-assign]
    sys.exit(app.main(["--headless"]))
