#!/usr/bin/env bash
# Every benchmark in one go (a few minutes on 2 cores); each rewrites its own section of
# docs/benchmarks.md beside the baseline it measured in the same run. The UI benchmark needs a
# display: it runs under Xvfb like the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
export KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON KIVY_HOME="${KIVY_HOME:-$PWD/.venv/kivy-home}"
doc=docs/benchmarks.md
.venv/bin/python bench/bench_cue_engine.py --write "$doc" > /dev/null
echo "bench: cue engine done"
.venv/bin/python bench/bench_mqtt_latency.py --write "$doc" > /dev/null
echo "bench: MQTT latency and ingest done"
.venv/bin/python bench/bench_recorder.py --write "$doc" > /dev/null
echo "bench: recorder done"
.venv/bin/python bench/bench_startup.py --write "$doc" > /dev/null
echo "bench: start-up done"
xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python bench/bench_ui.py --write "$doc" > /dev/null
echo "bench: UI done; results in $doc"
