"""A member's set with two lumbar lift-offs at a real kiosk process on a rendered kiosk broker, and what the
broker saw of it: shared by the tests that attack that set from outside (a babbling sensor login, a replay
storm) and check that the warning and the stop still come, and how long after each lift-off.

Both times are taken at the kiosk's broker, by one collector logged in beside the kiosk (the gym's
observer), so neither clock nor network of the test process is in the figure.
"""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.dev.broker import Received, end_process
from tests.support.broker_gym import OBSERVER, Gym, Peer, machine_root
from tests.support.kiosk_harness import Keyring

NODE = Path(__file__).resolve().parent / "babbling_node.py"
REPLAYED = b'"replayed":true'


@contextmanager
def kiosk_in_session(gym: Gym, machine: str, tmp_path: Path, data_dir: Path | None = None) -> Iterator[Peer]:
    """A real kiosk process with a member in session; the collector that saw it, on the kiosk's broker."""
    root = machine_root(machine)
    keyring = Keyring(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEGPRESS_")}
    env.update(LEGPRESS_SITE="downtown", LEGPRESS_MACHINE=machine,
               LEGPRESS_DATA_DIR=str(data_dir or tmp_path / "data"),
               LEGPRESS_BROKER_SECRETS=str(gym.out / "secrets" / f"kiosk-{machine}.toml"),
               LEGPRESS_TRUSTED_KEYS=str(keyring.trusted), PYTHONUNBUFFERED="1")
    collector = gym.peer(OBSERVER, machine, subscribe=(f"{root}/kiosk/event", f"{root}/sensor/event"))
    log_path = tmp_path / "kiosk.log"
    with open(log_path, "wb") as log:
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.app", "--headless"], env=env,
                                 stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert kiosk.stdin is not None
        kiosk.stdin.write((keyring.code("m_sam", "Sam") + "\n").encode())
        kiosk.stdin.flush()
        collector.received.wait_for(lambda m: b'"session_start"' in m.payload and REPLAYED not in m.payload,
                                    timeout=20)
        yield collector
    finally:
        end_process(kiosk, signal.SIGTERM)
        collector.close()
        print(log_path.read_text()[-3000:])


def play(gym: Gym, machine: str, attack: str, rate: int = 12_000) -> str:
    """Run the babbling node (tests/support/babbling_node.py) to the end of its set; what it says it sent."""
    secrets = gym.secrets(f"sensor-{machine}")
    done = subprocess.run(
        # `--password=...`: a generated password may start with '-', which argparse would take for an option.
        [sys.executable, str(NODE), "--port", str(gym.port(f"{machine}-sensor")), f"--username={secrets.username}",
         f"--password={secrets.password}", "--root", machine_root(machine), "--attack", attack, "--rate", str(rate),
         "--max-seconds", "25"],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def liftoff_to_cue(collector: Peer) -> list[tuple[str, float]]:
    """Each lumbar lift-off's cue severity and how long after the lift-off reached the broker it came there
    (replayed copies of cues are not cues)."""
    def live_cue(m: Received) -> bool:
        return m.topic.endswith("/kiosk/event") and b'"liftoff_lumbar"' in m.payload and REPLAYED not in m.payload

    stop = collector.received.wait_for(lambda m: live_cue(m) and b'"stop"' in m.payload, timeout=15)
    seen: list[Received] = list(collector.received.items)
    starts = [m.at for m in seen if m.topic.endswith("/sensor/event") and b'"start"' in m.payload]
    cues = [(json.loads(m.payload)["severity"], m.at) for m in seen if live_cue(m)]
    assert any(m is stop for m in seen)
    assert len(starts) == 2 and len(cues) == 2, (starts, cues)
    return [(severity, at - start) for (severity, at), start in zip(cues, starts, strict=True)]


def set_end(collector: Peer) -> dict:
    """The set's own `set_end` (not a replayed copy)."""
    found = collector.received.wait_for(lambda m: b'"set_end"' in m.payload and REPLAYED not in m.payload,
                                        timeout=10)
    return dict(json.loads(found.payload))


def diagnostics(gym: Gym, machine: str, transaction: str = "after-the-set") -> dict:
    """The kiosk's `diagnostics` reply, asked by an operator on the site broker (through the bridge)."""
    root = machine_root(machine)
    operator = gym.peer("op-ops", "site", subscribe=(f"{root}/kiosk/res/diagnostics",))
    try:
        operator.publish(f"{root}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
        reply = operator.received.wait_for(lambda m: transaction.encode() in m.payload, timeout=15)
        return dict(json.loads(reply.payload)["data"])
    finally:
        operator.close()
