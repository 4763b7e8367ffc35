"""Fixtures for the delivery suite: a real PostgreSQL database per test (see tests/pg.py)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.pg import SKIP_REASON, URL_VARIABLE, fresh_database, pg_bin_dir, throwaway_cluster

_SKIPPED_MARK = "PostgreSQL tests skipped"


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
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_cluster(bin_dir))
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            pytest.skip(f"{_SKIPPED_MARK}: {URL_VARIABLE} is not set and a throwaway cluster from {bin_dir} "
                        f"did not start ({exc}; {detail.decode(errors='replace').strip()[:300]})")
        yield url


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database (random name) for one test."""
    with fresh_database(postgres_admin_url) as url:
        yield url


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """`make test` runs quietly: say out loud when the PostgreSQL tests did not run, and why."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _SKIPPED_MARK in str(r.longrepr)]
    if skipped:
        reason = str(skipped[0].longrepr[2]) if isinstance(skipped[0].longrepr, tuple) else str(skipped[0].longrepr)
        terminalreporter.write_sep("!", f"{len(skipped)} PostgreSQL tests SKIPPED", yellow=True)
        terminalreporter.write_line(reason.removeprefix("Skipped: "))
