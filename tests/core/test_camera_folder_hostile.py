"""Hostile files in the camera folder: a kiosk process reads regular images only, and its memory stays flat."""

import json
import os
import signal
import struct
import time
import zlib
from pathlib import Path

import qrcode

from kiosk.dev.broker import publish
from tests.support.helpers import eventually
from tests.support.kiosk_harness import Keyring
from tests.support.kiosk_process import kiosk_env, start_kiosk

R = "gym/v1/testgym/lp1"
RSS_LIMIT_MB = 150


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_bomb(path: Path, side: int = 13000) -> None:
    """A valid 1-bit PNG of side x side white pixels, compressed row by row so it is never in memory."""
    row = b"\x00" + b"\xff" * -(-side // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)))
        out.write(_chunk(b"IDAT", body) + _chunk(b"IEND", b""))


def _drop(folder: Path, name: str, write) -> None:
    """Write under a hidden name and rename, as a capture program should: never half seen."""
    hidden = folder / f".{name}"
    write(hidden)
    hidden.rename(folder / name)


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM): no spike between two polls can hide."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def _diagnostics(broker, collect) -> dict:
    replies = collect(f"{R}/kiosk/res/diagnostics")
    transaction = f"d{time.monotonic_ns()}"
    publish(broker, f"{R}/kiosk/cmd/diagnostics", json.dumps({"transaction": transaction}))
    return json.loads(replies.wait_for(lambda m: transaction.encode() in m.payload).payload)["data"]


def test_a_png_bomb_a_symlink_and_a_fifo_are_refused_unread_and_memory_stays_flat(broker, collect, tmp_path):
    keyring = Keyring(tmp_path)
    camera, secret = tmp_path / "camera", tmp_path / "elsewhere" / "secret.png"
    camera.mkdir()
    secret.parent.mkdir()
    # What the link points at holds a valid code: a kiosk that follows it would open a session.
    qrcode.make(keyring.code("m_secret", "Secret")).save(secret)
    env = kiosk_env(broker.url, tmp_path / "data", LEGPRESS_TRUSTED_KEYS=str(keyring.trusted),
                    LEGPRESS_CAMERA=f"files:{camera}")
    status, events = collect(f"{R}/kiosk/status"), collect(f"{R}/kiosk/event")
    proc = start_kiosk(env, tmp_path / "kiosk.log")
    try:
        status.wait_for(lambda m: json.loads(m.payload)["state"] == "ready", timeout=20)
        # The honest case first: a card in the folder opens a session.
        _drop(camera, "card.png", lambda p: qrcode.make(keyring.code("m_sam", "Sam")).save(p, format="PNG"))
        assert json.loads(events.wait_for(lambda m: b"session_start" in m.payload, timeout=15).payload)[
            "member"] == "m_sam"
        before_mb = _peak_rss_mb(proc.pid)

        _drop(camera, "bomb.png", write_png_bomb)
        assert (camera / "bomb.png").stat().st_size < 64 * 1024
        (camera / "shadow.png").symlink_to(secret)
        os.mkfifo(camera / "pipe.png")
        refused = [camera / "failed" / name for name in ("bomb.png", "shadow.png", "pipe.png")]
        eventually(lambda: all(p.exists() or p.is_symlink() for p in refused), timeout=20,
                   what="the bomb, the symlink and the pipe all moved to failed/")
        peak_mb = _peak_rss_mb(proc.pid)
        report = _diagnostics(broker, collect)
        assert report["telemetry"]["defences"]["camera_files_refused"] == 3
        assert peak_mb < RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB (before the hostile files: {before_mb:.0f} MB)"
        assert not any(b"m_secret" in m.payload for m in events.messages), "the symlink was followed"
        # The scanner logs each refusal just after moving the file aside: the last line may come a moment later.
        eventually(lambda: all(why in (tmp_path / "kiosk.log").read_text()
                               for why in ("13000x13000 pixels", "a symbolic link", "not a regular file")),
                   what="the three refusals in the kiosk's log")
        print(f"kiosk peak RSS: {before_mb:.1f} MB after a real card, {peak_mb:.1f} MB after the hostile files")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
