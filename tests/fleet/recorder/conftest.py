"""Fixtures of the recorder's and the reports' tests: every test that takes a store runs on both engines."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.dev.postgres import PostgresServer
from kiosk.fleet.recorder.store import Store
from kiosk.fleet.recorder.store_url import open_store

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.close()


@pytest.fixture(params=ENGINES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store on each engine: the same tests run on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'record.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    s.migrate()
    yield s
    s.close()
