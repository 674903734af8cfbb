"""Renders the HTML report for one day, one week and 90 days into docs/screenshots/report-<n>-days.png.

The day rows are the chart tests' own (tests/fleet/recorder/test_report_charts.py), drawn by the
report's `render`; headless Chromium takes the pictures. For checking the date axes by eye.

    .venv/bin/python docs/report_spans_screenshot.py
"""

import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kiosk.fleet.recorder.figures import Period  # noqa: E402
from kiosk.fleet.recorder.html import render  # noqa: E402
from tests.fleet.recorder.test_report_charts import LAST, recorded_days  # noqa: E402


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed"
    with tempfile.TemporaryDirectory() as work:
        for count in (1, 7, 90):
            page = Path(work) / f"report-{count}.html"
            page.write_text(render(recorded_days(count), Period(LAST - timedelta(days=count - 1), LAST),
                                   "for the docs"), encoding="utf-8")
            shot = REPO / "docs" / "screenshots" / f"report-{count}-days.png"
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--window-size=1000,1250", f"--user-data-dir={work}/profile-{count}",
                            f"--screenshot={shot}", page.as_uri()], check=True, capture_output=True, timeout=90)
            print(shot)


if __name__ == "__main__":
    main()
