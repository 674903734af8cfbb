"""Revoking a kiosk on a rendered site: its login is refused, then `legpress-fleet kiosk revoke` clears every
retained message it left, so nothing it said (or had retained for it) lives on."""

from collections.abc import Iterator

import pytest

from tests.support.broker_gym import Gym, fleet, machine_root
from tests.support.helpers import eventually

R2 = machine_root("lp-2")


@pytest.fixture
def gym(tmp_path) -> Iterator[Gym]:
    g = Gym(tmp_path)
    assert g.render() == 0
    g.start("site")
    yield g
    g.close()


def test_a_revoked_kiosk_is_refused_and_leaves_nothing_retained_on_the_site(gym: Gym, capsys):
    stolen = gym.peer("kiosk-lp-2", "site")
    for tail in ("status", "info", "config/state", "sensor"):
        stolen.publish(f"{R2}/kiosk/{tail}", b'{"said": "by lp-2"}', retain=True)
    ops = gym.peer("op-ops", "site")
    ops.publish(f"{R2}/kiosk/config/set", b'{"idle_timeout_s": 45}', retain=True)
    ops.publish(f"{R2}/kiosk/bridge", b"1", retain=True)
    before = gym.peer("op-ops", "site", subscribe=(f"{R2}/#",))
    eventually(lambda: len(before.received.items) == 6, what="six retained topics of lp-2")

    old = gym.secrets("kiosk-lp-2").password
    assert gym.render("--rotate", "kiosk-lp-2") == 0
    capsys.readouterr()
    gym.brokers["site"].reload()
    eventually(lambda: not gym.peer("kiosk-lp-2", "site", password=old, expect=False).accepted,
               what="the old kiosk password refused")

    operator = ("--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "op-ops.toml"))
    assert fleet("kiosk", "revoke", "lp-2", *operator) == 0
    out = capsys.readouterr().out
    assert out.startswith("cleared 6 retained topics of lp-2 on site downtown: ")
    after = gym.peer("op-ops", "site", subscribe=(f"{R2}/#",))
    after.sync()
    assert after.received.items == []


def test_revoking_names_a_bad_machine_in_one_line(gym: Gym, capsys):
    operator = ("--site", "downtown", "--broker-secrets", str(gym.out / "secrets" / "op-ops.toml"))
    assert fleet("kiosk", "revoke", "LP 2", *operator) == 2
    assert "machine" in capsys.readouterr().err
