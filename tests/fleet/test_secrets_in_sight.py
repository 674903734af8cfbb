"""Secrets stay out of sight: a malformed URL is quoted with its password masked, cards and the record are
created private whoever runs the tool and whatever their umask."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.fleet.cli import main
from kiosk.fleet.recorder.store_url import open_store
from kiosk.mqtt.broker_url import BrokerUrl, masked
from tests.fleet.test_fleet_cli import issue, key_dir  # noqa: F401 - the fixture, shared

PASSWORD = "S3cretPW"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """As when a tool is run by hand from a shell with a lax umask."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("url", [f"mqtp://op-ops:{PASSWORD}@site:1883", f"mqtt://op-ops:{PASSWORD}@site:99999",
                                 f"mqtt://op-ops:{PASSWORD}@site:1883/path", f"mqtt://op:{PASSWORD}@@site:1883/x"])
def test_a_malformed_broker_url_is_quoted_with_its_password_masked(url: str):
    with pytest.raises(ValueError) as refused:
        BrokerUrl.parse(url)
    assert PASSWORD not in str(refused.value) and "***" in str(refused.value)


def test_the_command_line_never_echoes_a_password(capsys):
    assert main(["status", "--site", "downtown", "--broker", f"mqtp://op-ops:{PASSWORD}@site:1883"]) == 2
    err = capsys.readouterr().err
    assert PASSWORD not in err and "op-ops:***@site" in err
    assert masked("mqtts://u:p@ss@h:1 and mqtt://h:2") == "mqtts://u:***@h:1 and mqtt://h:2"


def test_cards_are_0600_in_a_0700_folder_whatever_the_umask(key_dir: Path, tmp_path: Path,  # noqa: F811
                                                            open_umask: None, capsys):
    cards = tmp_path / "new" / "cards"
    assert issue(key_dir, cards) == 0
    assert mode(cards) == 0o700 and mode(cards.parent) == 0o700
    assert sorted((p.name, mode(p)) for p in cards.iterdir()) == [("anna.png", 0o600), ("anna.svg", 0o600)]


def test_the_recorders_store_is_0600_whoever_runs_it(tmp_path: Path, open_umask: None):
    path = tmp_path / "records" / "record.sqlite"
    store = open_store(f"sqlite:{path}")
    try:
        store.migrate()
    finally:
        store.close()
    assert mode(path.parent) == 0o700
    assert {p.name: mode(p) for p in path.parent.iterdir()} == {p.name: 0o600 for p in path.parent.iterdir()}
