#!/usr/bin/env bash
# Mutation testing of the safety logic with mutmut (docs/mutation.md). Not in CI: about half an hour
# on two shared cores. What is mutated and which tests judge each mutant is in pyproject.toml's
# [tool.mutmut]: only the fast unit tests of the mutated modules, never the broker tests.
#
#   bash bench/mutation.sh            a fresh run; prints the score and the survivors not yet judged
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
# The score counts the survivors judged equivalent in docs/mutation.md out; it rewrites only its own
# section of docs/benchmarks.md.
.venv/bin/python bench/mutation_score.py --minutes "$(( elapsed / 60 ))" --write docs/benchmarks.md
echo "mutation: read a survivor with .venv/bin/mutmut show NAME (or browse them: .venv/bin/mutmut browse)"
