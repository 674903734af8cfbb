#!/usr/bin/env bash
# The demo: a loopback mosquitto, the simulated sensor node and the kiosk
# together. Opens the kiosk window when a display is there, otherwise runs
# headless. Extra arguments go to `python -m kiosk.dev.demo` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export KIVY_NO_ARGS=1
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" = "Linux" ] && [[ " $* " != *" --headless "* ]]; then
    echo "demo: no display found, running headless (scan codes by pasting them here)"
    set -- --headless "$@"
fi
exec .venv/bin/python -m kiosk.dev.demo "$@"
