"""Start `legpress-kiosk --headless` as a real child process for end-to-end tests."""

import os
import subprocess
import sys
from pathlib import Path


def kiosk_env(broker_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(
        LEGPRESS_SITE="testgym",
        LEGPRESS_MACHINE="lp1",
        LEGPRESS_BROKER=broker_url,
        LEGPRESS_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_kiosk(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    # The child keeps its own copy of the file descriptor; ours is closed once it has started.
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "kiosk.app", "--headless"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
