"""`legpress-fleet broker render`: every broker's configuration of a gym from its inventory.

The layout under `--out` is fixed (shared/spec/product.md). How a render
treats the folder it writes to:

- `--out` must be new, empty, or hold an earlier render of the same site
  (it has `render.toml`). Anything else is refused, so a typo can never
  scatter broker configs into a home folder or overwrite someone's files.
- Rendering again into an earlier render keeps every password (read back
  from `secrets/<user>.toml`), the CA and the site certificate, and the
  brokers' `data/` folders; `--rotate USER` gives that user a new password.
  A machine or operator no longer in the inventory loses its secrets file,
  its password file lines and, for a machine, its whole `kiosks/<machine>/`.
- Everything is worked out in memory first: a bad inventory, a bad
  `--rotate`, or an unreadable earlier secret stops the render before a
  single file is written. Each file is then replaced atomically (written
  beside, renamed over), so a broker reloading mid-render reads either the
  old file or the new one.
- Nothing written is readable by other users: folders 0700, files 0600.
"""

import datetime
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from kiosk.contract.ids import is_valid_id
from kiosk.fleet.broker import acl, certs, conf, passwd
from kiosk.fleet.inventory import Inventory
from kiosk.mqtt.broker_url import BrokerSecrets, BrokerUrl

MANIFEST = "render.toml"
FORMAT = 1
# What POSIX allows for a login name mosquitto's `user` line can switch to.
_POSIX_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$")
# The passwords render makes (passwd.new_password), and nothing weaker or stranger.
_KEEPABLE_PASSWORD = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


class RenderError(ValueError):
    """The render cannot go ahead; one line naming the problem, nothing written."""


@dataclass(frozen=True)
class MqttUser:
    """One login: where it connects (for its secrets file) and which brokers' password files hold it."""

    name: str
    broker: BrokerUrl
    on_site: bool = False
    on_kiosk: str | None = None
    upstream: bool = False


@dataclass
class RenderResult:
    """What a render wrote, for the command's report."""

    out: Path
    inventory: Inventory
    users: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ca: str = "new"
    site_cert: str = "new"
    updated: bool = False


class Manifest(BaseModel):
    """`render.toml`: marks a folder as a render and lists what it wrote, so the next render can tidy up."""

    model_config = ConfigDict(extra="forbid")

    format: int
    site: str
    rendered: str
    machines: list[str]
    users: list[str]
    files: list[str]


def mqtt_users(inventory: Inventory, layout: conf.Layout) -> list[MqttUser]:
    """Every login the inventory implies, each with the address its secrets file gives."""
    site = inventory.site
    ca = layout.certs / "ca.crt"
    users: list[MqttUser] = []
    for m in inventory.machines:
        users.append(MqttUser(acl.kiosk_user(m.id), BrokerUrl("127.0.0.1", m.kiosk_local_port), on_site=True,
                              on_kiosk=m.id))
        users.append(MqttUser(acl.sensor_user(m.id), BrokerUrl(m.host or "127.0.0.1", m.sensor_port), on_kiosk=m.id))
    for o in inventory.operators:
        users.append(MqttUser(acl.operator_user(o.name), BrokerUrl(site.broker_host, site.tls_port, tls=True, ca=ca),
                              on_site=True))
    users.append(MqttUser(acl.RECORDER_USER, BrokerUrl("127.0.0.1", site.local_port), on_site=True))
    users.append(MqttUser(acl.CONSOLE_USER, BrokerUrl("127.0.0.1", site.local_port), on_site=True))
    if inventory.upstream:
        up = inventory.upstream
        up_ca = layout.certs / "upstream-ca.crt" if up.ca else None
        users.append(MqttUser(acl.upstream_user(site.id), BrokerUrl(up.host, up.port, tls=True, ca=up_ca),
                              upstream=True))
    return users


def _toml_string(value: str) -> str:
    # A TOML basic string: escape what TOML requires and every control character.
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def secrets_toml(user: MqttUser, password: str) -> str:
    lines = [
        f"# MQTT login {user.name}: written by `legpress-fleet broker render`. Keep it secret (mode 0600).",
        f"username = {_toml_string(user.name)}",
        f"password = {_toml_string(password)}",
        f"broker = {_toml_string(user.broker.address)}",
    ]
    if user.broker.ca:
        lines.append(f"ca = {_toml_string(str(user.broker.ca))}")
    return "\n".join(lines) + "\n"


def _check_out_path(out: Path) -> Path:
    text = str(out)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise RenderError(f"--out {out!r}: control characters cannot be written into mosquitto.conf")
    if out.exists() and not out.is_dir():
        raise RenderError(f"--out {out}: is a file, not a folder")
    return out.resolve()


def _earlier_render(out: Path, site: str) -> Manifest | None:
    """The manifest of an earlier render in `out`, None for a new or empty folder; refuses anything else."""
    if not out.exists() or not any(out.iterdir()):
        return None
    path = out / MANIFEST
    if not path.is_file():
        raise RenderError(f"--out {out}: not empty and not an earlier render (no {MANIFEST}); "
                          "give a new or empty folder")
    try:
        manifest = Manifest.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RenderError(f"--out {out}: {MANIFEST} is unreadable ({type(exc).__name__}); "
                          "render into a new folder") from None
    if manifest.format != FORMAT:
        raise RenderError(f"--out {out}: rendered in format {manifest.format}, this version writes {FORMAT}")
    if manifest.site != site:
        raise RenderError(f"--out {out}: holds a render of site {manifest.site!r}, not {site!r}; give another folder")
    return manifest


def _passwords(users: list[MqttUser], layout: conf.Layout, earlier: Manifest | None, rotate: list[str],
               result: RenderResult) -> dict[str, str]:
    known = {u.name for u in users}
    for name in rotate:
        if name not in known:
            raise RenderError(f"--rotate {name}: no such MQTT user in this inventory "
                              f"(users: {', '.join(sorted(known))})")
    passwords: dict[str, str] = {}
    for user in users:
        path = layout.secrets(user.name)
        if user.name in rotate:
            passwords[user.name] = passwd.new_password()
            result.rotated.append(user.name)
        elif earlier is not None and path.is_file():
            try:
                kept = BrokerSecrets.load(path)
            except ValueError as exc:
                raise RenderError(f"cannot keep the password of {user.name}: {exc}") from None
            if kept.username != user.name:
                raise RenderError(f"cannot keep the password of {user.name}: {path} is for {kept.username!r}")
            if not _KEEPABLE_PASSWORD.fullmatch(kept.password):
                # It goes into mosquitto.conf (remote_password) and URLs: only what render itself makes.
                raise RenderError(f"cannot keep the password of {user.name}: the one in {path} is not 32 or more "
                                  f"URL-safe characters; give --rotate {user.name}")
            passwords[user.name] = kept.password
            result.kept.append(user.name)
        else:
            passwords[user.name] = passwd.new_password()
            result.new.append(user.name)
    return passwords


def _read_pair(cert: Path, key: Path) -> certs.KeyPair | None:
    if not (cert.is_file() and key.is_file()):
        return None
    return certs.KeyPair(cert.read_bytes(), key.read_bytes())


def _certificates(inventory: Inventory, layout: conf.Layout, earlier: Manifest | None,
                  result: RenderResult) -> dict[str, bytes]:
    ca = _read_pair(layout.certs / "ca.crt", layout.certs / "ca.key") if earlier else None
    if ca is not None:
        try:
            certs.load_pem_certificates(ca.cert_pem)
        except ValueError:
            raise RenderError(f"{layout.certs / 'ca.crt'} is not a PEM certificate; "
                              "remove certs/ to make a new CA") from None
        result.ca = "kept"
    else:
        ca = certs.new_ca(inventory.site.id)
    server = _read_pair(layout.certs / "site.crt", layout.certs / "site.key") if earlier else None
    if server is not None and certs.server_cert_fits(server, ca, inventory.site.broker_host):
        result.site_cert = "kept"
    else:
        result.site_cert = "renewed" if server is not None else "new"
        try:
            server = certs.new_server_cert(ca, inventory.site.broker_host)
        except ValueError as exc:
            raise RenderError(f"cannot sign the site certificate: {exc}") from None
    files = {"certs/ca.crt": ca.cert_pem, "certs/ca.key": ca.key_pem,
             "certs/site.crt": server.cert_pem, "certs/site.key": server.key_pem}
    up = inventory.upstream
    if up is not None and up.ca is not None:
        try:
            data = up.ca.read_bytes()
            certs.load_pem_certificates(data)
        except (OSError, ValueError) as exc:
            raise RenderError(f"upstream.ca: {up.ca} is not a PEM certificate file ({exc})") from None
        files["certs/upstream-ca.crt"] = data
    return files


def _hash_lines(passwords: dict[str, str], earlier_file: Path) -> str:
    """The password file, reusing an earlier line whose hash still matches, so unchanged renders do not differ."""
    earlier: dict[str, str] = {}
    if earlier_file.is_file():
        for line in earlier_file.read_text(encoding="utf-8", errors="replace").splitlines():
            user, _, hashed = line.partition(":")
            earlier[user] = hashed
    lines = []
    for user, password in sorted(passwords.items()):
        hashed = earlier.get(user, "")
        if not passwd.check_password(password, hashed):
            hashed = passwd.hash_password(password)
        lines.append(f"{user}:{hashed}\n")
    return "".join(lines)


def plan(inventory: Inventory, out: Path, run_as: str, rotate: list[str]) -> tuple[dict[str, bytes], RenderResult,
                                                                                    Manifest | None]:
    """Every file of the render, by path relative to `out`, worked out without writing anything."""
    if not _POSIX_USER.fullmatch(run_as):
        raise RenderError(f"--broker-user {run_as!r} is not a user name")
    out = _check_out_path(out)
    layout = conf.Layout(out)
    earlier = _earlier_render(out, inventory.site.id)
    result = RenderResult(out=out, inventory=inventory, updated=earlier is not None)
    users = mqtt_users(inventory, layout)
    result.users = [u.name for u in users]
    passwords = _passwords(users, layout, earlier, rotate, result)
    files: dict[str, bytes] = _certificates(inventory, layout, earlier, result)

    for user in users:
        files[f"secrets/{user.name}.toml"] = secrets_toml(user, passwords[user.name]).encode()
    upstream_ca = layout.certs / "upstream-ca.crt" if "certs/upstream-ca.crt" in files else None
    upstream_password = passwords.get(acl.upstream_user(inventory.site.id))
    site_users = {u.name: passwords[u.name] for u in users if u.on_site}
    files["site/mosquitto.conf"] = conf.site_conf(inventory, layout, run_as, upstream_password, upstream_ca).encode()
    files["site/passwd"] = _hash_lines(site_users, layout.site / "passwd").encode()
    files["site/acl"] = acl.site_acl(inventory).encode()
    for m in inventory.machines:
        kiosk_users = {u.name: passwords[u.name] for u in users if u.on_kiosk == m.id}
        base = f"kiosks/{m.id}"
        files[f"{base}/mosquitto.conf"] = conf.kiosk_conf(
            inventory, m, layout, run_as, passwords[acl.kiosk_user(m.id)]).encode()
        files[f"{base}/passwd"] = _hash_lines(kiosk_users, layout.kiosk(m.id) / "passwd").encode()
        files[f"{base}/acl"] = acl.kiosk_acl(inventory, m).encode()
    if earlier is not None:
        result.removed = sorted(set(earlier.users) - set(result.users))
    _refuse_symlinks(out, files)
    return files, result, earlier


def _refuse_symlinks(out: Path, files: dict[str, bytes]) -> None:
    """A symlinked folder inside an earlier render would send secrets wherever it points."""
    folders = {out / "site" / "data", *(out / "kiosks" / Path(rel).parts[1] / "data"
                                         for rel in files if rel.startswith("kiosks/"))}
    for rel in files:
        folders.update((out / rel).parents)
    for folder in sorted(folders):
        if folder.is_relative_to(out) and folder.is_symlink():
            raise RenderError(f"{folder} is a symbolic link; a render's folders must be its own")


def _mkdir_private(path: Path, out: Path) -> None:
    """`path` (inside `out`, or `out` itself) as a 0700 folder; never changes anything above `out`."""
    if not path.is_dir():
        if path != out:
            _mkdir_private(path.parent, out)
        # Folders above `out` are made as mkdir -p would (umask), never chmod'ed: they are not the render's.
        path.mkdir(mode=0o700, parents=path == out, exist_ok=True)
    if path.is_relative_to(out):
        path.chmod(0o700)


def _write_private(path: Path, data: bytes, out: Path) -> None:
    _mkdir_private(path.parent, out)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _manifest_toml(manifest: Manifest) -> str:
    def strings(values: list[str]) -> str:
        return "[" + ", ".join(_toml_string(v) for v in values) + "]"

    return (
        "# Written by `legpress-fleet broker render`: this folder is a render; rendering into it again\n"
        "# keeps its passwords and certificates (see `legpress-fleet broker render --help`).\n"
        f"format = {manifest.format}\n"
        f"site = {_toml_string(manifest.site)}\n"
        f"rendered = {_toml_string(manifest.rendered)}\n"
        f"machines = {strings(manifest.machines)}\n"
        f"users = {strings(manifest.users)}\n"
        f"files = {strings(manifest.files)}\n"
    )


def render(inventory: Inventory, out: Path, run_as: str, rotate: list[str] | None = None) -> RenderResult:
    """Write the whole render into `out` (see the module docstring for what is kept)."""
    files, result, earlier = plan(inventory, out, run_as, rotate or [])
    out = result.out
    _mkdir_private(out, out)
    for rel, data in files.items():
        _write_private(out / rel, data, out)
    for folder in [out / "site" / "data", *(out / "kiosks" / m.id / "data" for m in inventory.machines)]:
        _mkdir_private(folder, out)
    if earlier is not None:
        machines = {m.id for m in inventory.machines}
        for gone in set(earlier.machines) - machines:
            if is_valid_id(gone):
                shutil.rmtree(out / "kiosks" / gone, ignore_errors=True)
        for rel in set(earlier.files) - set(files):
            # Only paths this tool wrote, never outside the render (the manifest could have been edited).
            target = (out / rel).resolve()
            if target.is_relative_to(out) and target.is_file():
                target.unlink()
    manifest = Manifest(format=FORMAT, site=inventory.site.id,
                        rendered=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                        machines=[m.id for m in inventory.machines], users=result.users, files=sorted(files))
    _write_private(out / MANIFEST, _manifest_toml(manifest).encode(), out)
    return result
