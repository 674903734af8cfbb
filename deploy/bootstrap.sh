#!/usr/bin/env bash
# Installs what the kiosk needs on a fresh Debian / Raspberry Pi OS machine and
# is safe to run again: Debian packages first (with sudo when not root), then a
# virtual environment in .venv with the package and its extras.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Installers talk a lot (build-backend notices, this machine's package mirrors); a newcomer needs one
# line per step, and everything only when a step fails. The full output stays in .bootstrap.log.
LOG="$PWD/.bootstrap.log"
: > "$LOG"
quietly() {
    if ! "$@" >>"$LOG" 2>&1; then
        echo "bootstrap: failed: $*" >&2
        tail -n 40 "$LOG" >&2
        exit 1
    fi
}

# Debian packages: the broker, its clients, a virtual screen for the window and
# its tests, the GL/input libraries Kivy's wheels load at run time, and the
# font printed member cards use; PostgreSQL and Chromium for the recorder's and
# the HTML report's tests (the tests start their own server, on a free port); aplay (alsa-utils)
# plays the cue sounds and espeak-ng renders the spoken ones (assets/make_sounds.py); shellcheck for
# the deploy scripts' tests and systemd-analyze (in systemd) for the units'; stress-ng loads the
# machine for the suite's reliability runs (docs/testing.md).
APT_PACKAGES=(mosquitto mosquitto-clients xvfb xauth libgl1 libgl1-mesa-dri libegl1 libmtdev1 fonts-dejavu-core python3-venv
              postgresql chromium alsa-utils espeak-ng shellcheck systemd stress-ng)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    quietly $SUDO apt-get update -qq
    quietly $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Installing mosquitto or postgresql may start a system service; the demo and tests start their own on free ports.

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "bootstrap: Python 3.11 or newer is needed, $("$PYTHON" --version 2>&1) found" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    quietly "$PYTHON" -m venv .venv
fi
# Every kiosk runs the set of versions the tests passed with: deploy/constraints.txt pins them
# (regenerate it with deploy/freeze-constraints.sh after changing dependencies and running the tests).
# Reinstall only when pyproject.toml or the constraints changed since the last successful install.
stamp=.venv/.legpress-installed
want=$(cat pyproject.toml deploy/constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: installing Python packages into .venv"
    quietly .venv/bin/python -m pip install -q --upgrade pip
    # The constraints file pins the tested set; the Pi installs from the same file.
    quietly .venv/bin/python -m pip install -q -c deploy/constraints.txt -e ".[ui,test,lint,postgres,report,console]"
    echo "$want" > "$stamp"
fi
# The member's languages: the .po catalogues are the source (reviewed in diffs); their .mo files are
# built here, never committed, so a binary can never disagree with the text beside it (docs/languages.md).
quietly .venv/bin/pybabel compile -D kiosk -d kiosk/words/locale
