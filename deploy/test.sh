#!/usr/bin/env bash
# Runs the whole test suite: real mosquitto brokers started by the tests, the
# Kivy window under a virtual X screen. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON KIVY_HOME="${KIVY_HOME:-$PWD/.venv/kivy-home}"
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest "$@"
