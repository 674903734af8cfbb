"""`deploy/install-pi.sh`: what it writes into a staged root from a real render, that a second run
changes nothing, that --dry-run writes nothing, and that an upgrade which never gets ready goes back.

The installer runs as a real process with `--root`, which touches nothing outside the stage: no
apt, no users, no systemctl. Owners cannot be set in a stage (the `kiosk` user need not exist on
the machine writing it); the installer records every owner and mode in
`/etc/tmpfiles.d/legpress-*.conf`, which systemd applies at every boot, and these tests read the
owners from there and the modes from the files themselves. The one thing played by the tests is
systemd (tests/support/fake_systemctl.py), for the upgrade's health check.

Also here, so the README's test command runs them: shellcheck on every script in deploy/ and
`systemd-analyze verify` on every unit.
"""

import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import requests

from kiosk.dev.broker import RenderedBroker, end_process, free_port
from kiosk.mqtt.broker_url import BrokerSecrets
from tests.support.broker_gym import Gym, Peer
from tests.support.helpers import eventually

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "deploy" / "install-pi.sh"
UNITS = sorted((REPO / "deploy").glob("*.service"))
MACHINE = "lp-1"


def install(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALLER), *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def gym(tmp_path: Path) -> Gym:
    """A real render of a one-machine gym, on free ports so its brokers can run here."""
    g = Gym(tmp_path, machines=(MACHINE,))
    assert g.render("--broker-user", "mosquitto") == 0
    return g


def kiosk_args(gym: Gym, stage: Path) -> list[str | Path]:
    return ["--bundle", gym.out / "kiosks" / MACHINE, "--secrets", gym.out / "secrets" / f"kiosk-{MACHINE}.toml",
            "--root", stage]


def snapshot(stage: Path) -> dict[str, tuple[int, str, int]]:
    """Every path of the stage: its mode, what it holds (or points to), when it last changed."""
    seen: dict[str, tuple[int, str, int]] = {}
    for path in sorted(stage.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            what = "-> " + os.readlink(path)
        elif path.is_file():
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        seen[str(path.relative_to(stage))] = (st.st_mode, what, st.st_mtime_ns)
    return seen


def owners(stage: Path, part: str) -> dict[str, tuple[str, str, str, str]]:
    """From the stage's tmpfiles.d file: path -> (type, mode, user, group)."""
    lines = (stage / f"etc/tmpfiles.d/legpress-{part}.conf").read_text().splitlines()
    rows = [line.split() for line in lines if line and not line.startswith("#")]
    return {path: (kind, mode, user, group) for kind, path, mode, user, group, _age in rows}


def mode(path: Path) -> str:
    return f"{path.stat().st_mode & 0o7777:04o}"


def test_a_staged_kiosk_gets_its_units_config_and_broker_with_the_intended_modes_and_owners(gym, tmp_path):
    stage, keys = tmp_path / "stage", tmp_path / "keys"
    keys.mkdir()
    (keys / "desk-2026.pem").write_text("-----BEGIN PUBLIC KEY-----\n")
    done = install(*kiosk_args(gym, stage), "--keys", keys)
    assert done.returncode == 0, done.stderr
    etc = stage / "etc/legpress"
    assert (etc / "trusted_keys/desk-2026.pem").read_text() == "-----BEGIN PUBLIC KEY-----\n"
    assert owners(stage, "kiosk")["/etc/legpress/trusted_keys/desk-2026.pem"] == ("z", "0644", "root", "root")

    for unit in ("legpress-kiosk.service", "legpress-broker.service"):
        assert (stage / "etc/systemd/system" / unit).read_text() == (REPO / "deploy" / unit).read_text()
        wants = stage / "etc/systemd/system/multi-user.target.wants" / unit
        assert os.readlink(wants) == f"/etc/systemd/system/{unit}"
    assert os.readlink(stage / "etc/systemd/system/mosquitto.service") == "/dev/null"
    assert os.readlink(stage / "etc/systemd/system/getty@tty1.service") == "/dev/null"
    assert "SystemMaxUse=" in (stage / "etc/systemd/journald.conf.d/legpress.conf").read_text()
    assert not (stage / "etc/systemd/system/legpress-recorder.service").exists(), "a kiosk runs no recorder"

    settings = tomllib.loads((etc / "kiosk.toml").read_text())
    assert settings == {"site": "downtown", "machine": MACHINE, "machine_model": "generic-45", "camera": "picamera2",
                        "broker_secrets": "/etc/legpress/broker-secrets.toml"}
    secrets = BrokerSecrets.load(etc / "broker-secrets.toml")
    assert secrets.username == f"kiosk-{MACHINE}" and secrets.password == gym.secrets(f"kiosk-{MACHINE}").password

    conf = (etc / "mosquitto/mosquitto.conf").read_text()
    assert str(gym.out) not in conf, "a path of the render machine is left in the kiosk's broker config"
    for line in ("user mosquitto", "password_file /etc/legpress/mosquitto/passwd",
                 "acl_file /etc/legpress/mosquitto/acl", "persistence_location /var/lib/legpress-broker/",
                 "bridge_cafile /etc/legpress/ca.crt"):
        assert line in conf.splitlines(), line
    assert (etc / "ca.crt").read_bytes() == gym.ca.read_bytes()
    assert (etc / "mosquitto/passwd").read_bytes() == (gym.out / "kiosks" / MACHINE / "passwd").read_bytes()
    assert (etc / "mosquitto/acl").read_bytes() == (gym.out / "kiosks" / MACHINE / "acl").read_bytes()

    recorded = owners(stage, "kiosk")
    intended = {
        "/etc/legpress/kiosk.toml": ("z", "0640", "root", "kiosk"),
        "/etc/legpress/broker-secrets.toml": ("z", "0600", "kiosk", "kiosk"),
        "/etc/legpress/ca.crt": ("z", "0644", "root", "root"),
        "/etc/legpress/trusted_keys": ("d", "0755", "root", "root"),
        "/etc/legpress/kivy/config.ini": ("z", "0644", "root", "root"),
        "/var/lib/legpress": ("d", "0700", "kiosk", "kiosk"),
        "/etc/legpress/mosquitto": ("d", "0750", "root", "mosquitto"),
        "/etc/legpress/mosquitto/mosquitto.conf": ("z", "0600", "mosquitto", "mosquitto"),
        "/etc/legpress/mosquitto/passwd": ("z", "0600", "mosquitto", "mosquitto"),
        "/etc/legpress/mosquitto/acl": ("z", "0600", "mosquitto", "mosquitto"),
        "/var/lib/legpress-broker": ("d", "0700", "mosquitto", "mosquitto"),
    }
    for path, want in intended.items():
        assert recorded[path] == want, path
        assert mode(stage / path.lstrip("/")) == want[1], f"{path} has mode {mode(stage / path.lstrip('/'))}"
    for path, (_kind, want_mode, _user, _group) in recorded.items():
        assert mode(stage / path.lstrip("/")) == want_mode, path

    users = (stage / "etc/sysusers.d/legpress.conf").read_text().splitlines()
    assert 'u kiosk - "Leg press kiosk" /var/lib/legpress /usr/sbin/nologin' in users
    assert {f"m kiosk {g}" for g in ("video", "render", "input")} <= set(users)

    release = stage / "opt/legpress" / os.readlink(stage / "opt/legpress/current")
    assert os.readlink(stage / "opt/legpress/current").startswith("releases/0.1.0-"), "current is a relative link"
    assert tomllib.loads((release / "RELEASE").read_text())["version"] == "0.1.0"
    # The cue sounds travel with the release (the unit points LEGPRESS_SOUNDS at them).
    def sounds(root: Path) -> list[Path]:
        return sorted(p.relative_to(root) for p in root.rglob("*.wav"))

    shipped = sounds(release / "assets" / "sounds")
    assert shipped and shipped == sounds(REPO / "assets" / "sounds")
    assert "would run: env DEBIAN_FRONTEND=noninteractive apt-get install" in done.stdout
    assert "python3 -m venv --system-site-packages" in done.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to other users needs root")
def test_at_first_boot_systemd_makes_the_users_and_gives_every_file_its_owner(gym, tmp_path):
    """What the image's first boot does, with systemd's own tools on the stage: sysusers, then tmpfiles."""
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    assert install("--site", gym.out, "--root", stage).returncode == 0
    for tool in (["systemd-sysusers", f"--root={stage}"], ["systemd-tmpfiles", f"--root={stage}", "--create"]):
        done = subprocess.run(tool, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    # The image has root already; the stage's passwd and group hold what sysusers made.
    users = {"root": 0} | {line.split(":")[0]: int(line.split(":")[2])
                           for line in (stage / "etc/passwd").read_text().splitlines()}
    groups = {"root": ["root", "x", "0", ""]} | {line.split(":")[0]: line.split(":")
                                                for line in (stage / "etc/group").read_text().splitlines()}
    for group in ("video", "render", "input", "audio"):
        assert "kiosk" in groups[group][3].split(","), f"kiosk is not in {group}"
    assert "legpress-console" in groups["legpress-records"][3].split(","), "the console cannot read the store"
    intended = {**owners(stage, "kiosk"), **owners(stage, "site")}
    assert len(intended) > 20
    for path, (_kind, want_mode, user, group) in intended.items():
        st = (stage / path.lstrip("/")).stat()
        assert (st.st_uid, st.st_gid) == (users[user], int(groups[group][2])), f"{path} is not {user}:{group}"
        assert f"{st.st_mode & 0o7777:04o}" == want_mode, path


def test_the_installed_kiosk_broker_config_runs_and_lets_the_kiosk_in(gym, tmp_path):
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    # The config names the Pi's paths; moved back into the stage, the very file is started here.
    conf = (stage / "etc/legpress/mosquitto/mosquitto.conf").read_text()
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    here = (conf.replace("/etc/legpress/", f"{stage}/etc/legpress/").replace("/var/lib/", f"{stage}/var/lib/")
            .replace("user mosquitto", f"user {user}"))
    local = tmp_path / "staged-broker.conf"
    local.write_text(here)
    broker = RenderedBroker(local, log=tmp_path / "staged-broker.log").start()
    peer = Peer(gym.port(MACHINE), f"kiosk-{MACHINE}", gym.secrets(f"kiosk-{MACHINE}").password)
    stranger = Peer(gym.port(MACHINE), f"kiosk-{MACHINE}", "not-the-password")
    try:
        assert peer.connect(), "the kiosk's login is refused by its installed broker"
        assert not stranger.connect(), "a wrong password got in"
    finally:
        peer.close()
        stranger.close()
        broker.stop()


def test_kivy_gets_exactly_one_touch_provider_the_rotation_no_cursor_and_no_blanking(gym, tmp_path):
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage), "--rotation", "180").returncode == 0
    home = stage / "etc/legpress/kivy"
    config = configparser.RawConfigParser()
    config.read(home / "config.ini")
    touch = [value for key, value in config.items("input") if not value.startswith("mouse")]
    assert touch == ["probesysfs,provider=hidinput,param=rotation=180"], config.items("input")
    assert config.get("graphics", "rotation") == "180"
    assert config.get("graphics", "show_cursor") == "0"
    assert config.get("graphics", "allow_screensaver") == "0"
    assert config.get("graphics", "fullscreen") == "auto"
    # Kivy itself reads it, finds nothing to upgrade, and so never writes into its read-only home.
    copy = tmp_path / "kivy-home"
    shutil.copytree(home, copy)
    before = (copy / "config.ini").read_bytes()
    probe = ("from kivy.config import Config; print(Config.get('graphics', 'rotation'), "
             "Config.get('input', '%(name)s'), Config.get('kivy', 'desktop'))")
    seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          env={**os.environ, "KIVY_HOME": str(copy), "KIVY_NO_ARGS": "1", "KIVY_LOG_MODE": "PYTHON"})
    assert seen.stdout.split() == ["180", "probesysfs,provider=hidinput,param=rotation=180", "1"]
    assert (copy / "config.ini").read_bytes() == before, "Kivy rewrote the config: regenerate deploy/kivy-config.ini"
    assert sorted(p.name for p in copy.iterdir()) == ["config.ini", "icon", "mods"]


def test_a_second_run_changes_nothing(gym, tmp_path):
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    assert install("--site", gym.out, "--root", stage).returncode == 0
    before = snapshot(stage)
    again = install(*kiosk_args(gym, stage))
    site_again = install("--site", gym.out, "--root", stage)
    assert again.returncode == 0 and site_again.returncode == 0
    assert snapshot(stage) == before
    for output in (again.stdout, site_again.stdout):
        assert not any(word in output for word in ("wrote ", "made ", "linked ")), output


def test_dry_run_prints_the_plan_and_writes_nothing(gym, tmp_path):
    stage = tmp_path / "stage"
    planned = install(*kiosk_args(gym, stage), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert not stage.exists(), "--dry-run made the stage"
    assert "write /etc/legpress/broker-secrets.toml (0600 kiosk:kiosk)" in planned.stdout
    assert "would run: systemctl daemon-reload" in planned.stdout
    assert install(*kiosk_args(gym, stage)).returncode == 0
    before = snapshot(stage)
    upgrade = install("--root", stage, "--upgrade", "--dry-run")
    assert upgrade.returncode == 0, upgrade.stderr
    assert snapshot(stage) == before


def test_the_site_host_gets_its_broker_and_recorder_and_never_the_ca_key(gym, tmp_path):
    stage = tmp_path / "stage"
    done = install("--site", gym.out, "--root", stage)
    assert done.returncode == 0, done.stderr
    site = stage / "etc/legpress/site"
    conf = (site / "mosquitto.conf").read_text().splitlines()
    for line in ("user mosquitto", "password_file /etc/legpress/site/passwd", "acl_file /etc/legpress/site/acl",
                 "certfile /etc/legpress/site/site.crt", "keyfile /etc/legpress/site/site.key",
                 "persistence_location /var/lib/legpress-site-broker/"):
        assert line in conf, line
    assert not any(str(gym.out) in line for line in conf)
    assert not list(stage.rglob("ca.key")), "the CA's signing key left the render"
    env = dict(line.split("=", 1) for line in (stage / "etc/legpress/recorder.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env == {"LEGPRESS_SITE": "downtown", "LEGPRESS_BROKER_SECRETS": "/etc/legpress/recorder.toml",
                   "LEGPRESS_STORE": "sqlite:/var/lib/legpress-recorder/records.sqlite3"}
    recorded = owners(stage, "site")
    assert recorded["/etc/legpress/recorder.toml"] == ("z", "0600", "legpress-recorder", "legpress-recorder")
    assert recorded["/etc/legpress/site/site.key"] == ("z", "0600", "mosquitto", "mosquitto")
    for unit in ("legpress-site-broker.service", "legpress-recorder.service", "legpress-console.service"):
        assert (stage / "etc/systemd/system" / unit).is_file()
        assert (stage / "etc/systemd/system/multi-user.target.wants" / unit).is_symlink()
    assert not (stage / "etc/systemd/system/legpress-kiosk.service").exists()
    # The console: its own user, login, data folder and a copy of the site certificate's key it alone reads.
    console_env = dict(line.split("=", 1) for line in (stage / "etc/legpress/console.env").read_text().splitlines()
                       if line and not line.startswith("#"))
    assert console_env == {"LEGPRESS_SITE": "downtown", "LEGPRESS_BROKER_SECRETS": "/etc/legpress/console.toml",
                           "LEGPRESS_CONSOLE_LISTEN": "0.0.0.0:8443",
                           "LEGPRESS_CONSOLE_EXTRA": "--store sqlite:/var/lib/legpress-recorder/records.sqlite3"}
    login = (stage / "etc/legpress/console.toml").read_text()
    assert 'username = "console"' in login and 'broker = "mqtt://127.0.0.1:' in login  # the loopback listener
    assert recorded["/etc/legpress/console.toml"] == ("z", "0600", "legpress-console", "legpress-console")
    assert recorded["/etc/legpress/console/site.key"] == ("z", "0600", "legpress-console", "legpress-console")
    assert recorded["/var/lib/legpress-console"][1:] == ("0700", "legpress-console", "legpress-console")
    users = (stage / "etc/sysusers.d/legpress.conf").read_text()
    assert "u legpress-console " in users
    # The recorder's store is shared read only with the console: a set-group-id folder its group may read
    # (the store the recorder makes in it is 0640, see tests/fleet/recorder), the console a member of the group.
    assert recorded["/var/lib/legpress-recorder"] == ("d", "2750", "legpress-recorder", "legpress-records")
    assert mode(stage / "var/lib/legpress-recorder") == "2750"
    assert {"g legpress-records -", "m legpress-console legpress-records"} <= set(users.splitlines())
    unit = (stage / "etc/systemd/system/legpress-console.service").read_text()
    assert "User=legpress-console" in unit and "--tls-cert /etc/legpress/console/site.crt" in unit


def test_with_the_inventory_the_recorder_takes_each_machines_model_from_it(gym, tmp_path):
    from kiosk.fleet.record import machine_models

    stage = tmp_path / "stage"
    done = install("--site", gym.out, "--inventory", gym.inventory, "--root", stage)
    assert done.returncode == 0, done.stderr
    env = dict(line.split("=", 1) for line in (stage / "etc/legpress/recorder.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env["LEGPRESS_INVENTORY"] == "/etc/legpress/inventory.toml"
    copied = stage / "etc/legpress/inventory.toml"
    assert copied.read_bytes() == gym.inventory.read_bytes() and mode(copied) == "0644"
    assert owners(stage, "site")["/etc/legpress/inventory.toml"] == ("z", "0644", "root", "root")
    assert machine_models(copied, "downtown") == {MACHINE: tomllib.loads(gym.inventory.read_text())["machines"][0][
        "model"]}
    # Only the site host's recorder reads it.
    refused = install(*kiosk_args(gym, tmp_path / "kiosk"), "--inventory", gym.inventory)
    assert refused.returncode == 2 and "--inventory goes with --site" in refused.stderr


def test_the_login_of_another_machine_is_refused_before_anything_is_written(tmp_path):
    gym = Gym(tmp_path, machines=(MACHINE, "lp-2"))
    assert gym.render() == 0
    stage = tmp_path / "stage"
    refused = install("--bundle", gym.out / "kiosks" / MACHINE, "--secrets", gym.out / "secrets/kiosk-lp-2.toml",
                      "--root", stage)
    assert refused.returncode == 2
    assert "not the login of kiosk-lp-1" in refused.stderr
    assert not stage.exists()


HOST_TOOLS = ("apt-get", "dpkg-query", "systemctl", "systemd-sysusers", "systemd-tmpfiles", "useradd", "usermod",
              "chown", "python3", "pip", "mosquitto")


def test_a_staged_install_runs_nothing_on_the_host(gym, tmp_path):
    """Every tool that would change the host is replaced by one that records being called: none is."""
    tools, calls = tmp_path / "tools", tmp_path / "calls.log"
    tools.mkdir()
    for tool in HOST_TOOLS:
        (tools / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        (tools / tool).chmod(0o755)
    env = {"PATH": f"{tools}:{os.environ['PATH']}"}
    stage = tmp_path / "stage"
    for args in (kiosk_args(gym, stage), ["--site", gym.out, "--root", stage], ["--root", stage, "--upgrade"]):
        done = install(*args, env=env)
        assert done.returncode == 0, done.stderr
    assert not calls.exists(), calls.read_text()


def test_a_pi_already_made_another_kiosk_is_not_silently_turned_into_this_one(tmp_path):
    gym = Gym(tmp_path, machines=(MACHINE, "lp-2"))
    assert gym.render() == 0
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    other = install("--bundle", gym.out / "kiosks/lp-2", "--secrets", gym.out / "secrets/kiosk-lp-2.toml",
                    "--root", stage)
    assert other.returncode == 2
    assert "kiosk.toml is for another machine" in other.stderr


def fake_systemd(tmp_path: Path, stage: Path) -> dict[str, str]:
    """The environment that makes the installer ask tests/support/fake_systemctl.py instead of systemd."""
    state = tmp_path / "systemd"
    state.mkdir(exist_ok=True)
    fake = tmp_path / "systemctl"
    fake.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests" / "support" / "fake_systemctl.py"}" "$@"\n')
    fake.chmod(0o755)
    return {"LEGPRESS_SYSTEMCTL": str(fake), "LEGPRESS_STABLE_S": "0.5", "FAKE_SYSTEMD_STAGE": str(stage),
            "FAKE_SYSTEMD_STATE": str(state), "FAKE_SYSTEMD_TIMEOUT": "5"}


READY_LAUNCHER = """#!{python}
# A release that starts and says READY=1 over the real notify protocol, then keeps running.
import os, socket, time
with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
    s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
while True:
    time.sleep(60)
"""


def plant_ready_release(stage: Path) -> str:
    """The program of the release in use, as the Pi would have built it: it gets ready and runs on."""
    release = os.readlink(stage / "opt/legpress/current")
    program = stage / "opt/legpress" / release / "venv/bin/legpress-kiosk"
    program.parent.mkdir(parents=True)
    program.write_text(READY_LAUNCHER.format(python=sys.executable))
    program.chmod(0o755)
    return release


def test_a_new_sensor_login_reloads_the_kiosk_broker_and_a_new_kiosk_login_restarts_it(gym, tmp_path):
    stage = tmp_path / "stage"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    plant_ready_release(stage)
    env = fake_systemd(tmp_path, stage)
    journal = tmp_path / "systemd/systemctl.log"

    def broker_calls() -> list[str]:
        lines = journal.read_text().splitlines() if journal.exists() else []
        journal.unlink(missing_ok=True)
        return [line for line in lines if "legpress-broker.service" in line]

    assert gym.render("--broker-user", "mosquitto", "--rotate", f"sensor-{MACHINE}") == 0
    assert install(*kiosk_args(gym, stage), env=env).returncode == 0
    # Passwords only: mosquitto rereads them on SIGHUP, and the kiosk and the bridge stay connected.
    assert broker_calls() == ["systemctl reload-or-restart legpress-broker.service"]
    assert gym.render("--broker-user", "mosquitto", "--rotate", f"kiosk-{MACHINE}") == 0
    try:
        rotated = install(*kiosk_args(gym, stage), env=env)
        assert rotated.returncode == 0, rotated.stdout
        # The bridge's own password is in mosquitto.conf, which a reload does not reread; the kiosk
        # has a new login too, so it is restarted and must get ready with it.
        assert "legpress-kiosk.service: release" in journal.read_text()
        assert broker_calls() == ["systemctl restart legpress-broker.service"]
        assert install(*kiosk_args(gym, stage), env=env).returncode == 0
        assert broker_calls() == [], "nothing changed, yet the broker was touched"
    finally:
        subprocess.run([env["LEGPRESS_SYSTEMCTL"], "stop", "legpress-kiosk.service"], env={**os.environ, **env},
                       check=False)




def test_an_upgrade_that_never_gets_ready_goes_back_to_the_previous_release_with_data_and_config_kept(gym, tmp_path):
    stage, state = tmp_path / "stage", tmp_path / "systemd"
    assert install(*kiosk_args(gym, stage)).returncode == 0
    previous = plant_ready_release(stage)
    data = stage / "var/lib/legpress"
    (data / "calibration.json").write_text('{"zero_mm": 3.0}')
    with open(stage / "etc/legpress/kiosk.toml", "a") as settings:
        settings.write('log_level = "DEBUG"\n')
    kept = {p: p.read_bytes() for p in (data / "calibration.json", stage / "etc/legpress/kiosk.toml",
                                        stage / "etc/legpress/broker-secrets.toml")}
    env = fake_systemd(tmp_path, stage)
    fake = env["LEGPRESS_SYSTEMCTL"]
    time.sleep(1.1)  # releases are named to the second
    try:
        # The new release is built only on a Pi (a venv is bound to its interpreter): in the stage it
        # has no program at all, so systemd cannot start it and it never gets ready.
        upgrade = install("--root", stage, "--upgrade", env=env)
        assert upgrade.returncode == 1, upgrade.stdout + upgrade.stderr
        assert f"rolled back to release {Path(previous).name}" in upgrade.stdout
        assert os.readlink(stage / "opt/legpress/current") == previous
        assert [p.name for p in (stage / "opt/legpress/releases").iterdir()] == [Path(previous).name]
        journal = (state / "systemctl.log").read_text().splitlines()
        starts = [line for line in journal if line.startswith("legpress-kiosk.service: release")]
        assert starts[0].endswith("(none): failed at exec (No such file or directory)"), starts
        assert starts[-1] == f"legpress-kiosk.service: release {Path(previous).name}: ready", starts
        assert (state / "legpress-kiosk.service.pid").is_file(), "the previous release is not running"
        for path, content in kept.items():
            assert path.read_bytes() == content, f"{path} changed in the upgrade"
    finally:
        subprocess.run([fake, "stop", "legpress-kiosk.service"], env={**os.environ, **env}, check=False)


def test_shellcheck_passes_on_every_script_in_deploy():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: deploy/bootstrap.sh installs it"
    scripts = sorted((REPO / "deploy").glob("*.sh"))
    assert INSTALLER in scripts
    checked = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout


def test_systemd_analyze_verify_passes_on_every_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd)"
    assert {u.name for u in UNITS} == {"legpress-kiosk.service", "legpress-broker.service",
                                       "legpress-site-broker.service", "legpress-recorder.service",
                                       "legpress-node.service", "legpress-console.service"}
    # verify checks that ExecStart exists; the release's programs live on a Pi, so the units are
    # checked with /opt/legpress moved to a stage holding the same programs.
    bin_dir = tmp_path / "opt/legpress/current/venv/bin"
    bin_dir.mkdir(parents=True)
    for program in ("legpress-kiosk", "legpress-fleet", "legpress-node"):
        (bin_dir / program).write_text("#!/bin/sh\n")
        (bin_dir / program).chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        (units / unit.name).write_text(unit.read_text().replace("=/opt/legpress/", f"={tmp_path}/opt/legpress/"))
    checked = subprocess.run([analyze, "verify", *sorted(p.name for p in units.iterdir())], cwd=units,
                             capture_output=True, text=True, env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"})
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_a_sensor_node_gets_its_unit_user_groups_login_and_settings(gym, tmp_path):
    from kiosk.node.settings import load_node_settings

    stage = tmp_path / "stage"
    done = install("--sensor-node", gym.out / "secrets" / f"sensor-{MACHINE}.toml", "--root", stage)
    assert done.returncode == 0, done.stderr
    assert f"sensor node of {MACHINE} of site downtown" in done.stdout
    units = stage / "etc/systemd/system"
    assert (units / "legpress-node.service").read_text() == (REPO / "deploy/legpress-node.service").read_text()
    assert os.readlink(units / "multi-user.target.wants/legpress-node.service") == str(
        Path("/etc/systemd/system/legpress-node.service"))
    assert not (units / "legpress-kiosk.service").exists(), "a sensor node alone runs no kiosk"

    users = (stage / "etc/sysusers.d/legpress.conf").read_text().splitlines()
    assert 'u legpress-node - "Leg press sensor node" /var/lib/legpress-node /usr/sbin/nologin' in users
    assert {"m legpress-node gpio", "m legpress-node i2c"} <= set(users)
    assert not any(line.startswith("u kiosk ") for line in users)

    etc = stage / "etc/legpress"
    secrets = BrokerSecrets.load(etc / "node-secrets.toml")
    assert secrets.username == f"sensor-{MACHINE}" and secrets.password == gym.secrets(f"sensor-{MACHINE}").password
    recorded = owners(stage, "node")
    assert recorded["/etc/legpress/node.toml"] == ("z", "0640", "root", "legpress-node")
    assert recorded["/etc/legpress/node-secrets.toml"] == ("z", "0600", "legpress-node", "legpress-node")
    assert recorded["/var/lib/legpress-node"] == ("d", "0700", "legpress-node", "legpress-node")
    for path, (_kind, want_mode, _user, _group) in recorded.items():
        assert mode(stage / path.lstrip("/")) == want_mode, path
    # The written settings are ones the node accepts (with the staged login in place of /etc's).
    settings = load_node_settings(etc / "node.toml", broker_secrets=etc / "node-secrets.toml")
    assert (settings.site, settings.machine, settings.sled.kind) == ("downtown", MACHINE, "encoder")
    assert settings.broker_url.username == f"sensor-{MACHINE}"
    assert "python3-lgpio" in done.stdout

    again = install("--sensor-node", gym.out / "secrets" / f"sensor-{MACHINE}.toml", "--root", stage)
    assert again.returncode == 0 and "keeping /etc/legpress/node.toml" in again.stdout


def test_a_kiosk_login_is_no_sensor_node_login(gym, tmp_path):
    done = install("--sensor-node", gym.out / "secrets" / f"kiosk-{MACHINE}.toml", "--root", tmp_path / "stage")
    assert done.returncode == 2
    assert "is not a sensor node's login" in done.stderr
    assert not (tmp_path / "stage").exists()


def test_the_installed_console_unit_serves_https_on_the_installed_site_broker(tmp_path):
    """The console's unit as systemd would run it: its ExecStart with console.env, the stage's paths standing in
    for the host's, against the render's real site broker; it answers HTTPS with the site certificate."""
    gym = Gym(tmp_path, machines=(MACHINE,))
    assert gym.render() == 0  # brokers run as this user here: no --broker-user
    stage = tmp_path / "stage"
    assert install("--site", gym.out, "--root", stage).returncode == 0
    gym.start("site")
    env = dict(line.split("=", 1) for line in (stage / "etc/legpress/console.env").read_text().splitlines()
               if line and not line.startswith("#"))
    port = free_port()
    env["LEGPRESS_CONSOLE_LISTEN"] = f"localhost:{port}"
    # The staged login names the host's CA path; here the stage holds it.
    secrets = stage / "etc/legpress/console.toml"
    secrets.write_text(secrets.read_text().replace('"/etc/legpress/', f'"{stage}/etc/legpress/'))
    env["LEGPRESS_BROKER_SECRETS"] = str(secrets)
    unit = (stage / "etc/systemd/system/legpress-console.service").read_text()
    command = next(line.removeprefix("ExecStart=") for line in unit.splitlines() if line.startswith("ExecStart="))
    command = command.replace("${LEGPRESS_CONSOLE_LISTEN}", env["LEGPRESS_CONSOLE_LISTEN"])
    command = command.replace("$LEGPRESS_CONSOLE_EXTRA", env["LEGPRESS_CONSOLE_EXTRA"])
    argv = [str(Path(sys.executable).parent / "legpress-fleet") if a.endswith("/bin/legpress-fleet") else
            a.replace("/etc/legpress/", f"{stage}/etc/legpress/").replace("/var/lib/", f"{stage}/var/lib/")
            for a in command.split()]
    (stage / "var/lib/legpress-console").chmod(0o700)
    log = tmp_path / "console.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "LEGPRESS_SITE": env["LEGPRESS_SITE"],
                                     "LEGPRESS_BROKER_SECRETS": env["LEGPRESS_BROKER_SECRETS"]})
    try:
        def answering() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                return requests.get(f"https://localhost:{port}/login", verify=str(gym.ca), timeout=1).ok
            except requests.RequestException:
                return False
        eventually(answering, timeout=20, what="the installed console answering HTTPS")
        assert f"serving https://localhost:{port}/ for site downtown (broker mqtt://console:***@" in log.read_text()
    finally:
        end_process(proc)
        gym.close()
