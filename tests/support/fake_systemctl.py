"""A stand-in for `systemctl`, for the installer's `--upgrade` test in a staged root.

There is no systemd to ask in a stage, so this plays the part the upgrade relies on: `restart
legpress-kiosk.service` runs the unit's `ExecStart` (its path taken inside the stage, through
the `current` link) with `NOTIFY_SOCKET` set to a socket this process binds, and succeeds only
when `READY=1` arrives within the start timeout, as `systemctl restart` of a `Type=notify` unit
does. `is-active` says whether the process it started still runs. Every other command is
recorded and succeeds. Environment: FAKE_SYSTEMD_STAGE (the stage), FAKE_SYSTEMD_STATE (a folder
for its pid files and logs), FAKE_SYSTEMD_TIMEOUT (seconds to wait for READY=1).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

STAGE = Path(os.environ["FAKE_SYSTEMD_STAGE"])
STATE = Path(os.environ["FAKE_SYSTEMD_STATE"])
TIMEOUT_S = float(os.environ.get("FAKE_SYSTEMD_TIMEOUT", "10"))
SUPERVISED = "legpress-kiosk.service"


def log(line: str) -> None:
    with open(STATE / "systemctl.log", "a") as out:
        out.write(line + "\n")


def exec_start(unit: str) -> Path:
    text = (STAGE / "etc/systemd/system" / unit).read_text()
    command = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart="))
    return STAGE / command.split()[0].lstrip("/")


def running(unit: str) -> int | None:
    try:
        pid = int((STATE / f"{unit}.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def stop(unit: str) -> None:
    pid = running(unit)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
    (STATE / f"{unit}.pid").unlink(missing_ok=True)


def restart(unit: str) -> int:
    stop(unit)
    program = exec_start(unit)
    release = program.resolve().parent.parent.parent.name if program.exists() else "(none)"
    address = str(STATE / "notify.sock")
    Path(address).unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        try:
            with open(STATE / f"{unit}.out", "ab") as out:
                proc = subprocess.Popen([str(program)], env={**os.environ, "NOTIFY_SOCKET": address},
                                        stdout=out, stderr=out, start_new_session=True)
        except OSError as exc:
            log(f"{unit}: release {release}: failed at exec ({exc.strerror})")
            return 1
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                message = sock.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in message.splitlines():
                (STATE / f"{unit}.pid").write_text(str(proc.pid))
                log(f"{unit}: release {release}: ready")
                return 0
        proc.kill()
        log(f"{unit}: release {release}: never ready")
        return 1


def main(argv: list[str]) -> int:
    log("systemctl " + " ".join(argv))
    args = [a for a in argv if not a.startswith("-")]
    command, units = args[0], args[1:]
    if command == "restart" and units == [SUPERVISED]:
        return restart(SUPERVISED)
    if command == "is-active":
        return 0 if all(running(u) for u in units if u == SUPERVISED) else 3
    if command == "stop" and SUPERVISED in units:
        stop(SUPERVISED)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
