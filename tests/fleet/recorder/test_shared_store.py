"""The recorder's SQLite store shared read only, as installed (deploy/install-pi.sh --site): in a
set-group-id folder its group may read, the store and its -wal/-shm are 0640 in the folder's group; the
console's user (a member) reads it with `mode=ro` whether the recorder runs or has stopped, and can neither
write it nor create anything beside it. Anywhere else the store stays 0600.
"""

import os
import subprocess
from pathlib import Path

from kiosk.fleet.recorder.sqlite_store import SqliteStore
from kiosk.fleet.recorder.store_url import open_store
from tests.support.another_user import READERS_GID, Reader, needs_root, readable_by_all_above

READ = """
import sys
from kiosk.fleet.recorder.store_url import open_store
store = open_store("sqlite:" + sys.argv[1], must_exist=True, read_only=True)
print("tables", store.count("events"), store.count("statuses"))
try:
    store.add([])  # an empty insert still begins a write transaction
    store._conn.execute("CREATE TABLE intruder (x)")
except Exception as exc:
    print("write refused:", exc)
store.close()
"""


def shared_folder(tmp_path: Path, gid: int) -> Path:
    folder = tmp_path / "legpress-recorder"
    folder.mkdir()
    os.chown(folder, -1, gid)
    folder.chmod(0o2750)
    return folder


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def read_as(reader: Reader, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(reader.python("-c", READ, str(store)), capture_output=True,
                          text=True, timeout=60, **reader.popen_kwargs())


def test_a_store_elsewhere_is_private_and_in_a_shared_folder_group_readable_with_its_wal(tmp_path):
    private = SqliteStore(tmp_path / "alone" / "records.sqlite3")
    private.migrate()
    assert mode(private.path) == 0o600 and mode(private.path.parent) == 0o700
    private.close()

    folder = shared_folder(tmp_path, os.getgid())
    store = SqliteStore(folder / "records.sqlite3")
    store.migrate()
    files = [folder / n for n in ("records.sqlite3", "records.sqlite3-wal", "records.sqlite3-shm")]
    assert {f.name: oct(mode(f)) for f in files} == {f.name: oct(0o640) for f in files}
    assert {f.stat().st_gid for f in files} == {folder.stat().st_gid}
    store.close()
    # Stopped, the recorder leaves nothing a reader would need to create: no -wal, rollback-journal mode.
    assert sorted(p.name for p in folder.iterdir()) == ["records.sqlite3"]
    reader = open_store(f"sqlite:{folder / 'records.sqlite3'}", read_only=True)
    try:
        assert reader.count("events") == 0
    finally:
        reader.close()
    again = SqliteStore(folder / "records.sqlite3")  # the next start: WAL again
    assert again._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again.close()


@needs_root
def test_a_member_of_the_group_reads_while_the_recorder_runs_and_after_and_writes_nothing(tmp_path):
    folder = shared_folder(tmp_path, READERS_GID)
    readable_by_all_above(folder)
    path = folder / "records.sqlite3"
    recorder = SqliteStore(path)
    recorder.migrate()
    try:
        running = read_as(Reader(), path)
    finally:
        recorder.close()
    stopped = read_as(Reader(), path)
    for done in (running, stopped):
        assert done.returncode == 0, done.stderr
        assert "tables 0 0" in done.stdout
        assert "write refused: attempt to write a readonly database" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["records.sqlite3"]
    outsider = read_as(Reader(groups=()), path)
    assert outsider.returncode != 0
    assert "CommandFailed: cannot open the store" in outsider.stderr and "may not read its folder" in outsider.stderr
