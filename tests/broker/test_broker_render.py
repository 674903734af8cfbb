"""`legpress-fleet broker render`: the fixed layout, hostile inventories, and what rendering again keeps."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from cryptography import x509

from kiosk.fleet.broker.passwd import check_password, hash_password
from kiosk.mqtt.broker_url import BrokerSecrets
from tests.support.broker_gym import Gym, MachinePorts, fleet, inventory_text

GOOD = inventory_text(8883, 1883, {"lp-1": MachinePorts(1883, 1884), "lp-2": MachinePorts(1883, 1884)})
USERS = ["console", "kiosk-lp-1", "kiosk-lp-2", "op-ops", "recorder", "sensor-lp-1", "sensor-lp-2"]
LAYOUT = sorted([
    "site/mosquitto.conf", "site/passwd", "site/acl", "site/data",
    *(f"kiosks/{m}/{f}" for m in ("lp-1", "lp-2") for f in ("mosquitto.conf", "passwd", "acl", "data")),
    "kiosks", "site", "certs", "secrets",
    "certs/ca.crt", "certs/ca.key", "certs/site.crt", "certs/site.key",
    *(f"secrets/{u}.toml" for u in USERS), "kiosks/lp-1", "kiosks/lp-2", "render.toml",
])


def render(tmp_path: Path, text: str, *extra: str, out: str = "out") -> int:
    (tmp_path / "gym.toml").write_text(text)
    return fleet("broker", "render", str(tmp_path / "gym.toml"), "--out", str(tmp_path / out), *extra)


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def passwd_lines(path: Path) -> dict[str, str]:
    return dict(line.split(":", 1) for line in path.read_text().splitlines())


def test_render_writes_exactly_the_published_layout_readable_by_its_owner_only(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    assert tree(out) == LAYOUT
    for path in [out, *out.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
    report = capsys.readouterr().out
    assert f"mosquitto -c {out / 'site' / 'mosquitto.conf'}" in report and "7 new" in report


def test_each_secrets_file_names_its_login_broker_and_ca(tmp_path: Path):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    ca = str(out / "certs" / "ca.crt")
    expected = {
        "kiosk-lp-1": ("mqtt://127.0.0.1:1883", None),
        "sensor-lp-1": ("mqtt://127.0.0.1:1884", None),
        "op-ops": ("mqtts://localhost:8883", ca),
        "recorder": ("mqtt://127.0.0.1:1883", None),
        "console": ("mqtt://127.0.0.1:1883", None),
    }
    for user, (broker, want_ca) in expected.items():
        data = tomllib.loads((out / "secrets" / f"{user}.toml").read_text())
        assert data["username"] == user and data["broker"] == broker and data.get("ca") == want_ca
        assert len(data["password"]) >= 32
        assert BrokerSecrets.load(out / "secrets" / f"{user}.toml").url().username == user
    site_users = passwd_lines(out / "site" / "passwd")
    assert sorted(site_users) == ["console", "kiosk-lp-1", "kiosk-lp-2", "op-ops", "recorder"]
    assert sorted(passwd_lines(out / "kiosks" / "lp-1" / "passwd")) == ["kiosk-lp-1", "sensor-lp-1"]
    for user, hashed in site_users.items():
        assert check_password(BrokerSecrets.load(out / "secrets" / f"{user}.toml").password, hashed)


def test_password_hashes_are_mosquitto_passwds_own_format(tmp_path: Path):
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        pytest.skip("mosquitto_passwd is not installed")
    pwfile = tmp_path / "pw"
    subprocess.run([binary, "-c", "-b", str(pwfile), "alice", "s3cret-Ä"], check=True, capture_output=True)
    theirs = pwfile.read_text().strip().split(":", 1)[1]
    assert theirs.startswith("$7$101$")
    assert check_password("s3cret-Ä", theirs) and not check_password("s3cret-A", theirs)
    ours = hash_password("s3cret-Ä")
    assert ours.split("$")[:3] == theirs.split("$")[:3] and len(ours) == len(theirs)


def test_every_broker_refuses_anonymous_clients_and_ties_client_ids_to_usernames(tmp_path: Path):
    assert render(tmp_path, GOOD) == 0
    for conf in [tmp_path / "out/site/mosquitto.conf", *(tmp_path / "out/kiosks").glob("*/mosquitto.conf")]:
        lines = [ln for ln in conf.read_text().splitlines() if ln and not ln.startswith("#")]
        assert lines[0] == "per_listener_settings false"
        assert "allow_anonymous false" in lines and "allow_anonymous true" not in lines
        listeners = [i for i, ln in enumerate(lines) if ln.startswith("listener ")]
        assert len(listeners) == 2
        for i in listeners:
            assert lines[i + 1] == "use_username_as_clientid true"
        assert f"persistence_location {conf.parent / 'data'}/" in lines
        # Quotas on every broker: packet size, queues per client, and a ceiling on the heap.
        assert any(ln.startswith("memory_limit ") for ln in lines) and "max_packet_size 66560" in lines
        assert any(ln.startswith("user ") for ln in lines)


def test_a_kiosk_bridge_carries_exactly_the_agreed_topics_over_tls(tmp_path: Path):
    assert render(tmp_path, GOOD) == 0
    text = (tmp_path / "out/kiosks/lp-1/mosquitto.conf").read_text()
    root = "gym/v1/downtown"
    # Each topic one way: nothing the site writes (config, profiles, commands, the bridge state) goes back up.
    assert [ln for ln in text.splitlines() if ln.startswith("topic ")] == [
        *(f"topic {root}/lp-1/kiosk/{tail} out 1" for tail in ("status", "info", "telemetry", "event", "sensor",
                                                              "config/state", "profile", "res/#")),
        f"topic {root}/lp-1/kiosk/cmd/+ in 1",
        f"topic {root}/lp-1/kiosk/config/set in 1",
        f"topic {root}/config/# in 1",
        f"topic {root}/broadcast/# in 1",
        f"topic {root}/members/+/profile in 1",
        "topic homeassistant/status in 1",
    ]
    for line in ("address localhost:8883", f"bridge_cafile {tmp_path / 'out/certs/ca.crt'}", "cleansession false",
                 "try_private false", "remote_username kiosk-lp-1", "bridge_insecure false"):
        assert line in text.splitlines()
    assert "listener 1883 127.0.0.1" in text and "listener 1884\n" in text


def test_broker_user_names_who_mosquitto_runs_as_in_every_config(tmp_path: Path):
    assert render(tmp_path, GOOD, "--broker-user", "mosquitto") == 0
    for conf in (tmp_path / "out").rglob("mosquitto.conf"):
        assert "\nuser mosquitto\n" in conf.read_text()


def test_the_site_certificate_is_signed_by_the_dev_ca_for_the_broker_host(tmp_path: Path):
    assert render(tmp_path, GOOD) == 0
    ca = x509.load_pem_x509_certificate((tmp_path / "out/certs/ca.crt").read_bytes())
    site = x509.load_pem_x509_certificate((tmp_path / "out/certs/site.crt").read_bytes())
    site.verify_directly_issued_by(ca)
    names = site.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


BAD_INVENTORIES = [
    ("duplicate machine", GOOD + '[[machines]]\nid = "lp-1"\nmodel = "hammer-45"\n', "machines[2].id",
     "duplicate machine 'lp-1'"),
    ("bad machine id", GOOD.replace('id = "lp-2"', 'id = "LP 2"'), "machines[1].id", "'LP 2'"),
    ("id with a wildcard", GOOD.replace('id = "lp-2"', 'id = "lp/#"'), "machines[1].id", "pattern"),
    ("bad site id", GOOD.replace('id = "downtown"', 'id = "down\\ntown"'), "site.id", "pattern"),
    ("site ports clash", GOOD.replace("local_port = 1883", "local_port = 8883"), "site.local_port",
     "port 8883 is also site.tls_port"),
    ("kiosk ports clash", GOOD.replace("sensor_port = 1884", "sensor_port = 1883", 1), "machines[0].sensor_port",
     "port 1883 is also machines[0].kiosk_local_port"),
    ("kiosks on one host clash", GOOD.replace('model = "hammer-45"\n', 'model = "hammer-45"\nhost = "10.0.0.9"\n'),
     "machines[1].kiosk_local_port", "port 1883 is also machines[0].kiosk_local_port"),
    ("port out of range", GOOD.replace("tls_port = 8883", "tls_port = 70000"), "site.tls_port", "65535"),
    ("port as text", GOOD.replace("tls_port = 8883", 'tls_port = "8883"'), "site.tls_port", "integer"),
    ("unknown field", GOOD.replace("[site]\n", "[site]\nbroker_hots = 1\n"), "site.broker_hots", "unknown field"),
    ("bad host", GOOD.replace('broker_host = "localhost"', 'broker_host = "site broker\\nlistener 1"'),
     "site.broker_host", "not a host name"),
    ("no site", GOOD[GOOD.index("[[machines]]"):], "site", "Field required"),
    ("duplicate operator", GOOD + '[[operators]]\nname = "ops"\n', "operators[1].name", "duplicate operator"),
    ("not toml", "[site\n", "gym.toml", "not valid TOML"),
    ("missing upstream ca", GOOD + '[upstream]\nhost = "chain.example"\nca = "nope.pem"\n', "upstream.ca",
     "is not a file"),
]


@pytest.mark.parametrize("text,field,why", [case[1:] for case in BAD_INVENTORIES], ids=[c[0] for c in BAD_INVENTORIES])
def test_a_bad_inventory_is_one_line_naming_the_field_exit_2_and_nothing_written(tmp_path: Path, capsys, text: str,
                                                                                 field: str, why: str):
    assert render(tmp_path, text) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and field in err and why in err, err
    assert not (tmp_path / "out").exists()


def test_an_out_folder_holding_anything_but_an_earlier_render_is_refused(tmp_path: Path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert render(tmp_path, GOOD) == 2
    assert "not empty and not an earlier render" in capsys.readouterr().err
    assert tree(tmp_path / "out") == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    assert render(tmp_path, GOOD, out="file") == 2


def test_an_earlier_render_of_another_site_is_refused(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    capsys.readouterr()
    assert render(tmp_path, GOOD.replace('id = "downtown"', 'id = "uptown"')) == 2
    assert "holds a render of site 'downtown'" in capsys.readouterr().err


def test_rendering_again_keeps_passwords_hashes_and_certificates(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    keep = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "render.toml"}
    capsys.readouterr()
    assert render(tmp_path, GOOD) == 0
    assert "7 kept" in capsys.readouterr().out
    assert {p: p.read_bytes() for p in keep} == keep


def test_rotate_gives_one_user_a_new_password_and_keeps_the_others(tmp_path: Path):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    before = {u: BrokerSecrets.load(out / "secrets" / f"{u}.toml").password for u in USERS}
    site_before = passwd_lines(out / "site" / "passwd")
    assert render(tmp_path, GOOD, "--rotate", "kiosk-lp-1") == 0
    after = {u: BrokerSecrets.load(out / "secrets" / f"{u}.toml").password for u in USERS}
    assert after["kiosk-lp-1"] != before["kiosk-lp-1"]
    before.pop("kiosk-lp-1")
    assert {u: p for u, p in after.items() if u != "kiosk-lp-1"} == before
    site_after = passwd_lines(out / "site" / "passwd")
    assert check_password(after["kiosk-lp-1"], site_after["kiosk-lp-1"])
    assert check_password(after["kiosk-lp-1"], passwd_lines(out / "kiosks/lp-1/passwd")["kiosk-lp-1"])
    assert f"remote_password {after['kiosk-lp-1']}" in (out / "kiosks/lp-1/mosquitto.conf").read_text()
    assert {u: h for u, h in site_after.items() if u != "kiosk-lp-1"} == \
        {u: h for u, h in site_before.items() if u != "kiosk-lp-1"}


def test_rotating_an_unknown_user_is_refused_and_changes_nothing(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert render(tmp_path, GOOD, "--rotate", "kiosk-lp-9") == 2
    assert "--rotate kiosk-lp-9" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_machine_removed_from_the_inventory_loses_its_credentials(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    out = tmp_path / "out"
    one_machine = inventory_text(8883, 1883, {"lp-1": MachinePorts(1883, 1884)})
    capsys.readouterr()
    assert render(tmp_path, one_machine) == 0
    assert "2 removed" in capsys.readouterr().out
    assert not (out / "kiosks/lp-2").exists()
    assert not (out / "secrets/kiosk-lp-2.toml").exists() and not (out / "secrets/sensor-lp-2.toml").exists()
    assert "kiosk-lp-2" not in (out / "site/passwd").read_text()
    assert "kiosk-lp-2" not in (out / "site/acl").read_text()
    assert tomllib.loads((out / "render.toml").read_text())["machines"] == ["lp-1"]


def test_a_new_broker_host_renews_the_site_certificate_with_the_same_ca(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    ca = (tmp_path / "out/certs/ca.crt").read_bytes()
    capsys.readouterr()
    assert render(tmp_path, GOOD.replace('broker_host = "localhost"', 'broker_host = "mqtt.gym.example"')) == 0
    assert "dev CA kept, site certificate renewed" in capsys.readouterr().out
    assert (tmp_path / "out/certs/ca.crt").read_bytes() == ca
    site = x509.load_pem_x509_certificate((tmp_path / "out/certs/site.crt").read_bytes())
    names = site.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "mqtt.gym.example" in names.get_values_for_type(x509.DNSName)


@pytest.mark.parametrize("user", ["x\nlistener 1", "Root", "a b"])
def test_a_broker_user_that_is_not_a_user_name_is_refused(tmp_path: Path, user: str):
    assert render(tmp_path, GOOD, "--broker-user", user) == 2
    assert not (tmp_path / "out").exists()


def test_an_upstream_gets_its_own_login_and_the_sites_bridge(tmp_path: Path):
    gym = Gym(tmp_path, machines=("lp-1",), upstream='[upstream]\nhost = "broker.chain.example"\n')
    assert gym.render() == 0
    secrets = gym.secrets("site-downtown")
    assert secrets.broker == "mqtts://broker.chain.example:8883" and secrets.ca is None
    conf = gym.conf("site").read_text()
    assert "connection upstream" in conf and "bridge_capath /etc/ssl/certs" in conf
    assert "remote_username site-downtown" in conf
    # Each topic one way: the site's kiosks and profiles up, the chain's operators' commands and config down.
    topics = [ln for ln in conf.splitlines() if ln.startswith("topic ")]
    assert "topic gym/v1/downtown/+/kiosk/event out 1" in topics and "topic gym/v1/downtown/config/# in 1" in topics
    assert "topic gym/v1/downtown/members/+/profile out 1" in topics
    assert len({ln.split()[1] for ln in topics}) == len(topics), "a topic bridged both ways"
    # The chain's broker holds this login, not the site's: it is in no password file of the render.
    assert "site-downtown" not in (gym.out / "site/passwd").read_text()


def test_the_example_inventory_renders(tmp_path: Path):
    example = Path(__file__).resolve().parents[2] / "broker_config" / "gym.example.toml"
    assert render(tmp_path, example.read_text()) == 0
    assert (tmp_path / "out/kiosks/lp-2/mosquitto.conf").is_file()


def test_a_tampered_password_is_not_kept_and_nothing_is_written(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    secrets = tmp_path / "out/secrets/op-ops.toml"
    lines = [('password = "weak pass"' if line.startswith("password") else line)
             for line in secrets.read_text().splitlines()]
    secrets.write_text("\n".join(lines) + "\n")
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert render(tmp_path, GOOD) == 2
    assert "--rotate op-ops" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before
    assert render(tmp_path, GOOD, "--rotate", "op-ops") == 0


def test_a_symlinked_folder_in_an_earlier_render_is_refused(tmp_path: Path, capsys):
    assert render(tmp_path, GOOD) == 0
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "out/secrets").rename(elsewhere)
    (tmp_path / "out/secrets").symlink_to(elsewhere)
    assert render(tmp_path, GOOD) == 2
    assert "symbolic link" in capsys.readouterr().err


def test_render_changes_nothing_above_its_out_folder(tmp_path: Path):
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o1777)
    (tmp_path / "gym.toml").write_text(GOOD)
    for out in (parent / "out", parent / "new" / "deeper" / "out"):
        assert fleet("broker", "render", str(tmp_path / "gym.toml"), "--out", str(out)) == 0
        assert out.stat().st_mode & 0o777 == 0o700
    assert parent.stat().st_mode & 0o7777 == 0o1777
