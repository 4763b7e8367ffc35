"""Several replicas starting at once on one fresh PostgreSQL database all migrate safely (advisory lock)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from bot.store.db import Database, alembic_config
from bot.store.models import Base

ROOT = Path(__file__).resolve().parents[2]


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _assert_at_head(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            tables = set(inspect(connection).get_table_names())
        assert versions == [_head()], "exactly one version row, at head"
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_eight_threads_upgrading_a_fresh_database_at_once_all_succeed(pg_url):
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def replica() -> None:
        db = Database(pg_url)
        try:
            start.wait()
            db.upgrade()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=replica) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    _assert_at_head(pg_url)


def test_four_processes_running_mend_db_upgrade_at_once_all_succeed(pg_url):
    env = {**os.environ, "MEND_DATABASE_URL": pg_url}
    processes = [
        subprocess.Popen([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    assert [code for code, _out, _err in results] == [0, 0, 0, 0], [err for _c, _o, err in results]
    assert all("Database is up to date." in out for _code, out, _err in results)
    _assert_at_head(pg_url)


def test_upgrade_on_a_database_already_at_head_changes_nothing(pg_url):
    db = Database(pg_url)
    try:
        db.upgrade()
        db.upgrade()
    finally:
        db.dispose()
    _assert_at_head(pg_url)


def _schema_drift(url: str) -> list[object]:
    """What Alembic's autogenerate would still change after every migration ran: nothing, or the models
    and the migrations disagree (a column, a type, an index such as those on every foreign key)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(url)
    try:
        db.upgrade()
        with db.engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        db.dispose()


def test_the_migrations_build_exactly_the_models_schema_on_postgresql(pg_url):
    assert _schema_drift(pg_url) == []


def test_the_migrations_build_exactly_the_models_schema_on_sqlite(tmp_path):
    assert _schema_drift(f"sqlite:///{tmp_path / 'mend.db'}") == []
    with create_engine(f"sqlite:///{tmp_path / 'mend.db'}").connect() as connection:
        indexed = {tuple(i["column_names"]) for i in inspect(connection).get_indexes("actions")}
    assert ("recovery_id",) in indexed, "a recovery's actions are found by index, not by a scan"
