#!/usr/bin/env bash
# Mutation testing of the safety logic with mutmut (docs/mutation.md). Not in CI: about half an hour
# on two shared cores. What is mutated and which tests judge each mutant is in pyproject.toml's
# [tool.mutmut]: only the fast unit tests of the mutated modules, never the broker tests.
#
#   bash bench/mutation.sh            a fresh run; prints the score and lists the survivors
#   MUTMUT_CHILDREN=1 bash bench/mutation.sh    on a machine others are using
#
# The run is niced; its working copy is mutants/ (ignored by git), kept after the run so
# `.venv/bin/mutmut show NAME` and `.venv/bin/mutmut browse` can show each survivor.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
if [ ! -x .venv/bin/mutmut ]; then
    echo "mutation: installing mutmut (the [mutation] extra) into .venv"
    .venv/bin/python -m pip install -q -c deploy/constraints.txt -e ".[mutation]"
fi
export KIVY_NO_ARGS=1 KIVY_LOG_MODE=PYTHON KIVY_HOME="${KIVY_HOME:-$PWD/.venv/kivy-home}"
# mutmut reuses what it finds in mutants/; a score is only worth recording from a fresh run.
rm -rf mutants
started=$(date +%s)
nice -n 10 .venv/bin/mutmut run --max-children "${MUTMUT_CHILDREN:-2}" > .venv/mutmut-run.log 2>&1 || {
    tail -c 3000 .venv/mutmut-run.log; exit 1; }
elapsed=$(( $(date +%s) - started ))
.venv/bin/mutmut export-cicd-stats > /dev/null
.venv/bin/python - "$elapsed" <<'EOF'
import json
import sys

stats = json.load(open("mutants/mutmut-cicd-stats.json"))
killed, survived = stats["killed"], stats["survived"]
caught = killed + stats.get("timeout", 0) + stats.get("suspicious", 0)
judged = caught + survived + stats.get("no_tests", 0)
print(f"mutation: {judged} mutants in {int(sys.argv[1]) // 60} min: {killed} killed, "
      f"{stats.get('timeout', 0)} timed out, {survived} survived, {stats.get('no_tests', 0)} not covered")
print(f"mutation: caught {caught}/{judged} = {caught / judged:.1%} (before judging survivors equivalent)")
EOF
echo "mutation: survivors (read each with .venv/bin/mutmut show NAME; docs/mutation.md lists the equivalent ones)"
.venv/bin/mutmut results | grep -v ": killed" || true
