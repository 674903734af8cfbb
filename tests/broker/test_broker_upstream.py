"""A chain: the site broker bridged over TLS to a clustered broker, here a second mosquitto standing in for it.

The stand-in has its own CA (a chain's PKI is not the gym's), knows the
site only by its `site-<site>` login, and lets that login touch nothing but
its own site's tree, as an EMQX or HiveMQ set up for a chain would.
"""

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.dev.broker import RenderedBroker, free_port
from kiosk.fleet.broker.certs import new_ca, new_server_cert
from kiosk.fleet.broker.passwd import hash_password
from tests.support.broker_gym import Gym, Peer, machine_root

R1 = machine_root("lp-1")
CHAIN_OPS_PASSWORD = "chain-operator-password-for-tests"


def chain_pki(folder: Path) -> None:
    """The chain's own CA and its broker's certificate, made before the gym's render names the CA."""
    folder.mkdir(mode=0o700)
    ca = new_ca("chain")
    server = new_server_cert(ca, "localhost")
    for name, data in (("ca.crt", ca.cert_pem), ("server.crt", server.cert_pem), ("server.key", server.key_pem)):
        (folder / name).write_bytes(data)


def upstream_broker(folder: Path, port: int, site_password: str) -> RenderedBroker:
    """The clustered broker's stand-in: TLS only, a password per login, the site confined to its tree."""
    (folder / "passwd").write_text(f"site-downtown:{hash_password(site_password)}\n"
                                   f"chain-ops:{hash_password(CHAIN_OPS_PASSWORD)}\n")
    (folder / "acl").write_text("user site-downtown\ntopic readwrite gym/v1/downtown/#\n\n"
                                "user chain-ops\ntopic readwrite gym/v1/#\n")
    (folder / "mosquitto.conf").write_text("\n".join([
        # Without a `user` line mosquitto started as root becomes `mosquitto`, who cannot read this folder.
        "per_listener_settings false", f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        "allow_anonymous false", f"password_file {folder / 'passwd'}",
        f"acl_file {folder / 'acl'}", "persistence false", "log_dest stderr",
        f"listener {port}", "use_username_as_clientid true",
        f"certfile {folder / 'server.crt'}", f"keyfile {folder / 'server.key'}", ""]))
    return RenderedBroker(folder / "mosquitto.conf")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[Gym, Peer]]:
    port = free_port()
    upstream_dir = tmp_path / "upstream"
    chain_pki(upstream_dir)
    gym = Gym(tmp_path, machines=("lp-1",),
              upstream=f'[upstream]\nhost = "localhost"\nport = {port}\nca = "upstream/ca.crt"\n')
    assert gym.render() == 0
    broker = upstream_broker(upstream_dir, port, gym.secrets("site-downtown").password).start()
    gym.start("site")
    gym.start("lp-1")
    chain_ops = Peer(port, "chain-ops", CHAIN_OPS_PASSWORD, ca=upstream_dir / "ca.crt")
    assert chain_ops.connect()
    chain_ops.subscribe("gym/v1/#")
    yield gym, chain_ops
    chain_ops.close()
    gym.close()
    broker.stop()


def test_kiosk_events_travel_kiosk_to_site_to_the_chain_and_sensor_data_stays_at_the_machine(chain):
    gym, chain_ops = chain
    gym.peer("sensor-lp-1", "lp-1-sensor").publish(f"{R1}/sensor/event", b"liftoff")
    gym.peer("kiosk-lp-1", "lp-1").publish(f"{R1}/kiosk/event", b'{"type": "set_end"}')
    chain_ops.wait_for(f"{R1}/kiosk/event", b'{"type": "set_end"}', timeout=20)
    chain_ops.sync()
    assert chain_ops.topics().count(f"{R1}/kiosk/event") == 1
    assert [t for t in chain_ops.topics() if "/sensor/" in t] == []


def test_a_command_from_the_chain_reaches_the_kiosk_once(chain):
    gym, chain_ops = chain
    kiosk = gym.peer("kiosk-lp-1", "lp-1", subscribe=(f"{R1}/kiosk/cmd/+",))
    # Both bridges are up and subscribed once a kiosk message has come all the way out.
    kiosk.publish(f"{R1}/kiosk/info", b"probe")
    chain_ops.wait_for(f"{R1}/kiosk/info", b"probe", timeout=20)
    chain_ops.publish(f"{R1}/kiosk/cmd/message", b'{"transaction": "c1", "text": "hello", "seconds": 5}')
    kiosk.wait_for(f"{R1}/kiosk/cmd/message", timeout=20)
    kiosk.publish(f"{R1}/kiosk/info", b"after")
    chain_ops.wait_for(f"{R1}/kiosk/info", b"after", timeout=20)
    kiosk.sync()
    assert kiosk.topics().count(f"{R1}/kiosk/cmd/message") == 1
    assert chain_ops.topics().count(f"{R1}/kiosk/cmd/message") == 1


def test_the_render_copies_the_chains_ca_and_bridges_with_it(chain):
    gym, _ = chain
    assert (gym.out / "certs" / "upstream-ca.crt").read_bytes() == (gym.root / "upstream" / "ca.crt").read_bytes()
    assert f"bridge_cafile {gym.out / 'certs' / 'upstream-ca.crt'}" in gym.conf("site").read_text()
