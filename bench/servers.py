"""The processes a benchmark measures: `mend serve`, and a bare slack-bolt app as the baseline.

Both are real subprocesses on 127.0.0.1 talking to the same Slack Web API double (in the benchmark's own
process), so their numbers differ only by what the app does.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.pg import free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-bench"
SIGNING_SECRET = "bench-signing-secret"


@dataclass
class Server:
    name: str
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server and its children (Mend's command workers), from /proc (Linux)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(child) for child in task.read_text().split()]
        return found

    def rss_mb(self) -> float:
        """Resident memory now, the server and its workers together. Forked workers share the pages they
        did not write, so this counts those twice; `pss_mb` splits them fairly."""
        return sum(_status_kb(pid, "VmRSS:") for pid in self.pids()) / 1024

    def pss_mb(self) -> float:
        """Proportional set size: each shared page divided among the processes sharing it."""
        return sum(_rollup_kb(pid, "Pss:") for pid in self.pids()) / 1024

    async def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
                try:
                    async with session.get(self.url + path) as response:
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-3000:]}")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _rollup_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


async def _spawn(name: str, args: list[str], env: dict[str, str], folder: Path) -> Server:
    port = free_port()
    home = folder / name
    home.mkdir(parents=True, exist_ok=True)
    log = home / "server.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "SLACK_", "MICROSOFT_"))}
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, "--port", str(port), cwd=home, stdout=out, stderr=asyncio.subprocess.STDOUT,
            env={**clean, "PYTHONPATH": str(ROOT), **env})
    return Server(name, process, port, log)


async def start_mend(database_url: str, api_url: str, folder: Path, *, tick: float = 2.0,
                     workers: int | None = None, name: str = "mend") -> Server:
    """`mend serve`; `workers`: MEND_COMMAND_WORKERS (its default, 1, when None)."""
    extra = {} if workers is None else {"MEND_COMMAND_WORKERS": str(workers)}
    server = await _spawn(name, ["-m", "bot.cli", "serve", "--host", "127.0.0.1"], {
        "MEND_DATABASE_URL": database_url, "MEND_TICK_SECONDS": str(tick), "MEND_TIMEZONE": "America/New_York",
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url, **extra,
    }, folder)
    await server.wait_ready("/healthz")
    return server


async def start_bare_bolt(api_url: str, folder: Path) -> Server:
    server = await _spawn("bare-bolt", ["-m", "bench.bare_bolt"], {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url,
    }, folder)
    await server.wait_ready("/slack/events")
    return server
