"""A machine's sensor node that babbles, as a child process: it plays a set in real time with two real lumbar
lift-offs and, beside it on the same login, attacks the kiosk's stream.

- `flood`: depth samples stamped 30 s old at `--rate` a second (a babbling node, or someone with the
  sensor's password), from the set's first descent until it ends;
- `forge`: one sample `{"seq": 0, "ts": now + 4.5, "mm": 100}` every 2 s, the forgery that used to move the
  stream's clock and lock the real sensor out.

Bounded in time (`--max-seconds`) and count (the flood stops at `rate * max_seconds` samples); loopback only.
Prints one line at the end: what it sent.

    python tests/support/babbling_node.py --port P --username U --password W --root gym/v1/site/lp-1 --attack flood
"""

import argparse
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from kiosk.contract.base import decode, encode
from kiosk.contract.sensor import DepthSample, LiftoffEvent
from kiosk.mqtt.link import no_delay
from kiosk.sim.traces import generate

FORGE_EVERY_S = 2.0
FORGE_AHEAD_S = 4.5
FLOOD_AGE_S = 30.0


def two_liftoff_set(start: float) -> tuple[list[DepthSample], int, int]:
    """A good set at 50 Hz from `start`, and the samples at which the lower back lifts, in two reps."""
    trace = generate("good", 3, rate_hz=50, start_ts=start)
    samples = [decode(DepthSample, i.payload) for i in trace.items if i.kind == "depth"]
    deep = [n for n, s in enumerate(samples) if s.mm > 240]
    return samples, deep[0], next(n for n in deep if n > deep[0] + 150)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--root", required=True, help="the machine's topic root, gym/v1/<site>/<machine>")
    parser.add_argument("--attack", choices=("flood", "forge", "none"), required=True)
    parser.add_argument("--rate", type=int, default=12_000, help="flood samples a second")
    parser.add_argument("--max-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=args.username, protocol=MQTTProtocolVersion.MQTTv5)
    client.username_pw_set(args.username, args.password)
    client.on_socket_open = no_delay
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", args.port)
    client.loop_start()
    depth_topic, event_topic = f"{args.root}/sensor/depth", f"{args.root}/sensor/event"
    stop = threading.Event()
    sent = {"junk": 0, "forged": 0, "real": 0}
    flood_s = [0.0]  # how long the flood ran, for the rate it reached

    def flood() -> None:
        began, cap = time.monotonic(), int(args.rate * args.max_seconds)
        try:
            _flood(began, cap)
        finally:
            flood_s[0] = time.monotonic() - began

    def _flood(began: float, cap: int) -> None:
        while not stop.is_set() and sent["junk"] < cap:
            due = min(cap, int((time.monotonic() - began) * args.rate))
            now = time.time()
            while sent["junk"] < due:
                junk = DepthSample(seq=sent["junk"], ts=now - FLOOD_AGE_S, mm=100.0)
                client.publish(depth_topic, encode(junk), qos=0)
                sent["junk"] += 1
            stop.wait(0.002)

    def forge() -> None:
        while not stop.wait(FORGE_EVERY_S):
            client.publish(depth_topic, encode(DepthSample(seq=0, ts=time.time() + FORGE_AHEAD_S, mm=100.0)), qos=0)
            sent["forged"] += 1

    attacker = threading.Thread(target={"flood": flood, "forge": forge}.get(args.attack, lambda: None), daemon=True)
    deadline = time.monotonic() + args.max_seconds
    samples, first, second = two_liftoff_set(time.time() + 0.2)
    descent = next(n for n, s in enumerate(samples) if s.mm > samples[0].mm + 40)
    try:
        # Real time: each sample leaves when the sensor would take it.
        for n, sample in enumerate(samples[:second + 25]):
            time.sleep(max(0.0, sample.ts - time.time()))
            if time.monotonic() > deadline:
                break
            client.publish(depth_topic, encode(sample), qos=0)
            sent["real"] += 1
            if n == descent:
                attacker.start()
            if n in (first, second):
                for seq, state, ts in ((n, "start", sample.ts), (n + 1, "end", sample.ts + 0.01)):
                    event = LiftoffEvent(seq=seq, ts=ts, type="liftoff", zone="lumbar", state=state)
                    client.publish(event_topic, encode(event), qos=1).wait_for_publish(5)
    finally:
        stop.set()
        if attacker.is_alive():
            attacker.join(5)
        client.disconnect()
        client.loop_stop()
    rate = f" ({sent['junk'] / flood_s[0]:.0f}/s for {flood_s[0]:.1f} s)" if flood_s[0] else ""
    print(f"real {sent['real']} junk {sent['junk']}{rate} forged {sent['forged']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
