"""How fast the recorder stores events on each engine, and how long `legpress-fleet status` takes for 1,000 kiosks.

Three measurements, each against a baseline from the same run:
- store only: `Store.add` in the recorder's batches of 500, against decoding
  the same payloads (`to_row`) for scale;
- end to end: kiosks publishing QoS 1 events as fast as paho sends them, a real
  mosquitto, `legpress-fleet record` as a separate process; events per second
  from the first publish to the last row stored, and every event checked stored once;
- `legpress-fleet status` as an operator runs it against 1,000 simulated kiosks
  (a retained status, info and sensor status each), against `--wait` itself.
PostgreSQL runs durable here (fsync and synchronous commit on), as a real recorder's would.

    .venv/bin/python bench/bench_recorder.py --write docs/benchmarks.md
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from report import write_section

from kiosk.contract.base import encode
from kiosk.contract.events import RepDone
from kiosk.contract.kiosk import KioskInfo, KioskStatus
from kiosk.contract.sensor import SensorStatus
from kiosk.contract.topics import MachineTopics
from kiosk.dev.broker import DEV_CONF, Broker
from kiosk.dev.postgres import PostgresServer
from kiosk.fleet.recorder.intake import to_row
from kiosk.fleet.recorder.service import BATCH
from kiosk.fleet.recorder.store_url import open_store

SECTION = "## Recorder"
SITE = "bench"
FLEET = Path(sys.executable).parent / "legpress-fleet"


def rep_payload(eid: int, session: str) -> bytes:
    event = RepDone(ts=1_764_000_000.0 + eid, session=session, rep=eid % 12 + 1, depth_mm=250.0, eccentric_s=2.0,
                    concentric_s=1.0)
    return json.dumps({**event.model_dump(mode="json"), "eid": eid}).encode()


def store_only(url: str, n: int) -> dict[str, float]:
    topic = MachineTopics(SITE, "lp1").kiosk_event
    payloads = [rep_payload(i, "s1") for i in range(1, n + 1)]
    start = time.perf_counter()
    rows = [to_row(topic, p, 0.0) for p in payloads]
    decode_s = time.perf_counter() - start
    store = open_store(url)
    store.migrate()
    start = time.perf_counter()
    for i in range(0, n, BATCH):
        store.add(rows[i:i + BATCH])
    add_s = time.perf_counter() - start
    store.close()
    return {"decode_per_s": n / decode_s, "add_per_s": n / add_s}


def end_to_end(broker: Broker, url: str, kiosks: int, per_kiosk: int, log: Path) -> dict[str, float]:
    store = open_store(url)
    store.migrate()
    with log.open("ab") as out:
        recorder = subprocess.Popen([str(FLEET), "record", "--store", url, "--site", SITE, "--broker", broker.url,
                                     "--client-id", f"recorder-bench-{time.monotonic_ns()}"],
                                    stdout=out, stderr=subprocess.STDOUT)
    try:
        _until(lambda: "subscribed" in log.read_text(), 30)
        clients = []
        for k in range(kiosks):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-kiosk-{k}",
                                 protocol=MQTTProtocolVersion.MQTTv5)
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(0)
            client.connect(broker.host, broker.port)
            client.loop_start()
            clients.append(client)
        total = kiosks * per_kiosk

        def send(k: int) -> None:
            topic = MachineTopics(SITE, f"lp{k}").kiosk_event
            infos = [clients[k].publish(topic, rep_payload(i, f"s{k}"), qos=1) for i in range(1, per_kiosk + 1)]
            for info in infos:
                info.wait_for_publish(120)

        start = time.perf_counter()
        threads = [threading.Thread(target=send, args=(k,)) for k in range(kiosks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        published_s = time.perf_counter() - start
        _until(lambda: store.count("events") >= total, 300)
        stored_s = time.perf_counter() - start
        time.sleep(1.0)
        stored = store.count("events")
        for client in clients:
            client.disconnect()
            client.loop_stop()
    finally:
        recorder.terminate()
        recorder.wait(30)
        store.close()
    if stored != total:
        raise RuntimeError(f"sent {total} events, stored {stored}")
    return {"events": total, "publish_per_s": total / published_s, "stored_per_s": total / stored_s}


def status_of_a_thousand(broker: Broker, machines: int, wait: float) -> dict[str, float]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    now = time.time()
    pending = []
    for m in range(machines):
        topics = MachineTopics(SITE, f"k{m:04d}")
        status = KioskStatus(state="ready", mode="idle", ts=now, version="0.1.0", boot=1)
        kiosk_info = KioskInfo(version="0.1.0", machine_model="hammer-45", config_version="v1",
                               contract_version="gym/v1", site=SITE, machine=f"k{m:04d}")
        sensor = SensorStatus(state="ready", ts=now, fw="fw-2", rate_hz=50)
        for topic, model in ((topics.kiosk_status, status), (topics.kiosk_info, kiosk_info),
                             (topics.sensor_status, sensor)):
            pending.append(client.publish(topic, encode(model), qos=1, retain=True))
    for sent in pending:
        sent.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    timings = {}
    for label, seconds in (("default", wait), ("short", 0.2)):
        start = time.perf_counter()
        result = subprocess.run([str(FLEET), "status", "--site", SITE, "--broker", broker.url, "--wait", str(seconds)],
                                capture_output=True, text=True, check=True, timeout=120)
        timings[f"{label}_s"] = time.perf_counter() - start
        rows = sum(1 for line in result.stdout.splitlines() if line.startswith("k"))
        if rows != machines:
            raise RuntimeError(f"status listed {rows} of {machines} kiosks with --wait {seconds}")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import kiosk.fleet.cli"], check=True)
    timings["import_s"] = time.perf_counter() - start
    return timings


def _until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.05)


def bench_broker(folder: Path) -> Broker:
    # The dev config plus queues long enough for a burst: mosquitto drops QoS 1 messages past
    # max_queued_messages (1000 by default) when the recorder falls behind, even while it is online.
    conf = folder / "bench.conf"
    conf.write_text(DEV_CONF.read_text() + "\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n")
    return Broker(conf).start()


def report(r: dict) -> str:
    return f"""{SECTION}

`bench/bench_recorder.py`, Python {platform.python_version()} on {platform.machine()}, {time.strftime('%Y-%m-%d')},
2 cores shared with other work. PostgreSQL {r['pg_version']} durable (fsync and synchronous commit on),
SQLite {r['sqlite_version']} in WAL with `synchronous=NORMAL`.

| what | SQLite | PostgreSQL |
|---|---|---|
| store only: `Store.add`, batches of {BATCH}, {r['sqlite']['store']['n']:,} events | {r['sqlite']['store']['add_per_s']:,.0f} events/s | {r['postgresql']['store']['add_per_s']:,.0f} events/s |
| baseline: decoding the same payloads (`to_row`) | {r['sqlite']['store']['decode_per_s']:,.0f} events/s | |
| end to end: {r['kiosks']} kiosks, QoS 1, mosquitto, `legpress-fleet record` ({r['sqlite']['e2e']['events']:,} events) | {r['sqlite']['e2e']['stored_per_s']:,.0f} events/s | {r['postgresql']['e2e']['stored_per_s']:,.0f} events/s |
| baseline: the same kiosks' publishing rate | {r['sqlite']['e2e']['publish_per_s']:,.0f} events/s | {r['postgresql']['e2e']['publish_per_s']:,.0f} events/s |

Every event sent was stored once (checked). End to end, the recorder stores what
the broker delivers; a gym's kiosks send a few events per second each while in
use, so one recorder has headroom for thousands of machines. The site broker
must queue enough for a burst: mosquitto drops QoS 1 messages past
`max_queued_messages` (1000 by default) when a subscriber falls behind, so the
benchmark's broker sets it higher, as a site broker serving a recorder should.

`legpress-fleet status` against {r['machines']:,} simulated kiosks (retained status, info and
sensor status each, {3 * r['machines']:,} retained messages), the whole command as an operator runs it:

| what | time |
|---|---|
| `status` with the default `--wait {r['wait']:g}` | {r['status']['default_s']:.2f} s |
| `status --wait 0.2` | {r['status']['short_s']:.2f} s |
| baseline: starting Python and importing `legpress-fleet` | {r['status']['import_s']:.2f} s |

All {r['machines']:,} rows were listed with either wait: the retained messages arrive
within the shortest wait, so the time is the wait plus start-up; the table itself
costs little.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events for the store-only measurement")
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--per-kiosk", type=int, default=2_500)
    parser.add_argument("--machines", type=int, default=1_000)
    parser.add_argument("--write", type=Path, metavar="MD", help="update this markdown file's recorder section")
    args = parser.parse_args(argv)
    import sqlite3

    folder = Path(tempfile.mkdtemp(prefix="bench-recorder-"))
    postgres = PostgresServer(durable=True).start()
    broker = bench_broker(folder)
    results: dict = {"kiosks": args.kiosks, "machines": args.machines, "wait": 2.0,
                     "sqlite_version": sqlite3.sqlite_version}
    try:
        results["pg_version"] = subprocess.run([str(postgres._bin / "postgres"), "--version"], capture_output=True,
                                               text=True, check=True).stdout.split()[2]
        for engine in ("sqlite", "postgresql"):
            url = (lambda name: f"sqlite:{folder / name}.sqlite") if engine == "sqlite" else \
                (lambda _name: postgres.new_database())
            store = store_only(url("store"), args.events)
            store["n"] = args.events
            e2e = end_to_end(broker, url("e2e"), args.kiosks, args.per_kiosk, folder / f"{engine}.log")
            results[engine] = {"store": store, "e2e": e2e}
            print(engine, results[engine], flush=True)
        results["status"] = status_of_a_thousand(broker, args.machines, 2.0)
    finally:
        broker.close()
        postgres.close()
        shutil.rmtree(folder, ignore_errors=True)
    section = report(results)
    print(section)
    if args.write:
        write_section(args.write, SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
