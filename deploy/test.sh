#!/usr/bin/env bash
# Runs the whole test suite: real mosquitto brokers started by the tests, the
# Kivy window under a virtual X screen. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON KIVY_HOME="${KIVY_HOME:-$PWD/.venv/kivy-home}"
# The checks first: they take seconds and say exactly what is wrong. Set LEGPRESS_SKIP_CHECKS=1 to
# run only the tests while iterating.
if [ "${LEGPRESS_SKIP_CHECKS:-0}" != "1" ]; then
    echo "checks: ruff, mypy (strict for kiosk.contract and kiosk.core), import contracts"
    .venv/bin/ruff check --quiet .
    .venv/bin/mypy --no-incremental --no-error-summary
    .venv/bin/lint-imports --no-cache > .venv/lint-imports.log || { cat .venv/lint-imports.log; exit 1; }
fi
# Two workers (pytest-xdist) by default: most tests wait on brokers and processes, so two share two cores
# well. Each file's tests stay on one worker, and all the UI tests on one (tests/conftest.py groups them).
# LEGPRESS_TEST_WORKERS=0 runs everything in one process, as a debugger wants.
WORKERS="${LEGPRESS_TEST_WORKERS:-2}"
# Kivy makes its home folder (config, mods, icons) at its first import, checking then creating: two workers
# importing it at once on a fresh clone both create it and one fails. Made once here, before they start.
if [ ! -f "$KIVY_HOME/config.ini" ]; then
    .venv/bin/python -c "import kivy" > /dev/null 2>&1 || true  # if it fails, the tests say why
fi
# A worker that dies ends the run, naming the test it was running: a replaced worker under loadgroup was
# given no work, and the run waited for ever (a stress run on 2026-12-06 hung so after a worker died).
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest -n "$WORKERS" --dist loadgroup \
    --max-worker-restart=0 "$@"
