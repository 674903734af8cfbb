"""Renders the HTML report of a made-up fortnight of three machines into docs/screenshots/report.png.

The store is filled through the recorder's own intake (the rows a recorder
keeps for these payloads), then `legpress-fleet report --format html` writes
the file and headless Chromium takes the picture.

    .venv/bin/python docs/report_screenshot.py
"""

import json
import random
import shutil
import subprocess
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from PIL import Image

from kiosk.fleet.cli import main
from kiosk.fleet.recorder.intake import Row, to_row
from kiosk.fleet.recorder.store_url import open_store

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots" / "report.png"
SITE = "downtown"


def fortnight(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    first = date.today() - timedelta(days=14)

    def add(machine: str, tail: str, payload: dict) -> None:
        rows.append(to_row(f"gym/v1/{SITE}/{machine}/{tail}", json.dumps(payload).encode(), payload["ts"]))

    for machine, risk in (("lp-1", 0.04), ("lp-2", 0.09), ("lp-3", 0.02)):
        add(machine, "kiosk/status", {"state": "ready", "mode": "idle", "ts": datetime.combine(
            first, datetime.min.time()).timestamp(), "version": "0.1.0", "boot": 1})
        for offset in range(14):
            day = first + timedelta(days=offset)
            t = datetime(day.year, day.month, day.day, 7).timestamp()
            for n in range(rng.randint(4, 14)):
                session = f"{machine}-{offset}-{n}"
                t += rng.uniform(600, 3000)
                add(machine, "kiosk/event", {"type": "session_start", "ts": t, "session": session,
                                             "member": f"m{rng.randint(1, 40)}", "role": "member"})
                for set_number in range(1, rng.randint(2, 4)):
                    for rep in range(1, rng.randint(8, 13)):
                        t += 3
                        add(machine, "kiosk/event", {"type": "rep", "ts": t, "session": session, "rep": rep,
                                                     "depth_mm": rng.uniform(200, 300), "eccentric_s": 2,
                                                     "concentric_s": 1})
                        if rng.random() < risk:
                            add(machine, "kiosk/event", {"type": "cue", "ts": t + 0.5, "session": session,
                                                         "cue": rng.choice(["liftoff_lumbar", "liftoff_pelvis"]),
                                                         "severity": "warn", "rep": rep})
                    t += 60
                    add(machine, "kiosk/event", {"type": "set_end", "ts": t, "session": session,
                                                 "set": set_number, "reps": 10, "max_depth_mm": 280, "liftoffs": 0})
                if rng.random() < 0.03:
                    add(machine, "kiosk/event", {"type": "pain_report", "ts": t + 5, "session": session,
                                                 "member": "m1", "kind": "dull"})
            if rng.random() < 0.2:
                start = datetime(day.year, day.month, day.day, 14).timestamp()
                add(machine, "kiosk/status", {"state": "ready", "mode": "out_of_order", "ts": start,
                                              "version": "0.1.0", "boot": 1})
                add(machine, "kiosk/status", {"state": "ready", "mode": "idle", "ts": start + rng.uniform(900, 9000),
                                              "version": "0.1.0", "boot": 1})
    return rows


def main_screenshot() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store_url = f"sqlite:{folder}/record.sqlite"
        store = open_store(store_url)
        store.migrate()
        store.add(fortnight(random.Random(13)))
        store.close()
        html = Path(folder) / "report.html"
        assert main(["report", "--store", store_url, "--format", "html", "--out", str(html)]) == 0
        binary = shutil.which("chromium") or "chromium"
        subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={folder}/profile", f"--screenshot={OUT}", "--window-size=1100,1800",
                        "--hide-scrollbars", html.as_uri()], check=True, capture_output=True, timeout=120)
    Image.open(OUT).convert("RGB").quantize(64).save(OUT, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main_screenshot()
