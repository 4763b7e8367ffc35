"""Fixtures for the delivery suite: a real PostgreSQL database per test (see tests/pg.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pg import SKIP_REASON, URL_VARIABLE, fresh_database, pg_bin_dir, throwaway_cluster


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The PostgreSQL server for this run: CI's, or a throwaway cluster started here, or a clear skip."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given
        return
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        pytest.skip(SKIP_REASON)
    with throwaway_cluster(bin_dir) as url:
        yield url


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database (random name) for one test."""
    with fresh_database(postgres_admin_url) as url:
        yield url
