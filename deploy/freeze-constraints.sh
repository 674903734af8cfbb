#!/usr/bin/env bash
# Writes deploy/constraints.txt from the tested .venv: the exact versions every kiosk installs
# (bootstrap.sh passes it to pip with -c). Run it after changing a dependency in pyproject.toml,
# once `bash deploy/test.sh` passes in that venv; commit the result with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
{
    echo "# Versions the test suite passed with; written by deploy/freeze-constraints.sh, do not edit by hand."
    # The project itself is installed editable and left out; so are developer tools it does not depend on.
    .venv/bin/python -m pip freeze --exclude-editable | grep -v -i -E '^(ruff|mypy|mypy[-_]extensions|psutil)=='
} > deploy/constraints.txt
echo "deploy/constraints.txt: $(grep -c '==' deploy/constraints.txt) pinned packages"
