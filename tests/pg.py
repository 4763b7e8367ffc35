"""A real PostgreSQL for the tests: the one CI gives (`MEND_TEST_POSTGRES_URL`), or a throwaway cluster.

CI (`.ci/run`) starts a cluster and exports `MEND_TEST_POSTGRES_URL`. On a developer machine with Debian's
PostgreSQL binaries installed, the tests start their own cluster in a temporary folder (as the `postgres`
user when run as root, since `initdb` refuses root), so `make test` exercises PostgreSQL there too.
Otherwise the PostgreSQL tests skip and say why. Each test gets a fresh database with a random name.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

URL_VARIABLE = "MEND_TEST_POSTGRES_URL"
SKIP_REASON = (
    f"PostgreSQL tests skipped: {URL_VARIABLE} is not set and no PostgreSQL binaries (initdb) were found. "
    f"Set {URL_VARIABLE}=postgresql+psycopg://USER@HOST:PORT/postgres, or install postgresql-15, "
    "or run .ci/run, which starts a throwaway cluster."
)


def pg_bin_dir() -> Path | None:
    """Where `initdb` and `pg_ctl` live: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_cluster_owner(args: list[str]) -> list[str]:
    """`initdb` and `postgres` refuse to run as root: run them as `postgres` then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def throwaway_cluster(bin_dir: Path) -> Iterator[str]:
    """Start a PostgreSQL cluster on a free loopback port in a temporary folder; stop and remove it after."""
    data = Path(tempfile.mkdtemp(prefix="mend-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    subprocess.run(_as_cluster_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                                      "--auth=trust", "-E", "UTF8", "--no-sync"]), **quiet)  # type: ignore[call-overload]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c fsync=off -c max_connections=200"
    subprocess.run(_as_cluster_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log"),
                                      "-o", options, "start"]), **quiet)  # type: ignore[call-overload]
    stop = " ".join(_as_cluster_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]))
    _watch(os.getpid(), f"{stop} >/dev/null 2>&1; rm -rf {data}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(stop.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(data, ignore_errors=True)


def _watch(pid: int, cleanup: str) -> None:
    """Run `cleanup` once `pid` is gone, even if it was killed (a test run hit by `timeout`, or kill -9)."""
    script = f"while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}"
    subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """CREATE DATABASE with a random name on the server behind `admin_url`; drop it after."""
    name = f"mend_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
