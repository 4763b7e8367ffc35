"""`make bench` (python -m bench [--quick]): Mend's performance goals, measured side by side in one run.

Everything runs on 127.0.0.1 in bounded loops: the Slack Web API double lives in this process, the servers
are real subprocesses. Prints a Markdown table (docs/PERFORMANCE.md keeps the latest one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import ack, fanout, standup
from bench.report import Row, table
from bench.servers import start_bare_bolt, start_mend
from bot.app import build_core
from bot.config import Settings
from tests.fakes.slack_api import SlackApiDouble
from tests.pg import URL_VARIABLE, fresh_database, pg_bin_dir, throwaway_cluster

CONCURRENCY = 8


@dataclass
class Memory:
    rss: float = 0.0  # MB, the server and its workers summed (pages they share counted in each)
    pss: float = 0.0  # MB, proportional: each shared page divided among the processes sharing it
    single: float = 0.0  # MB, RSS of `mend serve` with MEND_COMMAND_WORKERS=0 (one process)


async def ack_rows(folder: Path, *, commands: int, warmup: int) -> tuple[list[Row], Memory]:
    url = f"sqlite:///{folder / 'ack.db'}"
    rounds = 2
    total = warmup + commands
    core = build_core(Settings(database_url=url, timezone="America/New_York"))
    await asyncio.to_thread(ack.seed_channels, core.engine, total)
    core.db.dispose()  # the last connection closed: the WAL is folded into the file, which can be copied
    alone = folder / "ack-no-workers.db"
    shutil.copyfile(folder / "ack.db", alone)  # each server its own database, so neither's writes slow the other
    names = ("mend", "mend-no-workers", "bare-bolt")
    async with SlackApiDouble() as slack:
        slack.add_user("U0LEAD", "dana")
        servers = [await start_mend(url, slack.api_url, folder / "ack"),
                   await start_mend(f"sqlite:///{alone}", slack.api_url, folder / "ack", workers=0,
                                     name="mend-no-workers"),
                   await start_bare_bolt(slack.api_url, folder / "ack")]
        try:
            for server in servers:
                await ack.run(server, slack, channels=range(warmup), concurrency=CONCURRENCY)
            results: dict[str, list[ack.AckResult]] = {name: [] for name in names}
            per_round = commands // rounds
            for r in range(rounds):  # alternate, so all see the same machine weather
                channels = range(warmup + r * per_round, warmup + (r + 1) * per_round)
                for server in servers:
                    results[server.name].append(
                        await ack.run(server, slack, channels=channels, concurrency=CONCURRENCY))
            memory = Memory(servers[0].rss_mb(), servers[0].pss_mb(), servers[1].rss_mb())
        finally:
            for server in servers:
                await server.stop()
    m, m0, b = (ack.AckResult(name, [a for res in results[name] for a in res.acks],
                              sum(res.seconds for res in results[name]), sum(res.answered for res in results[name]))
                for name in names)
    rows = []
    for label, result in (("", m), (" — MEND_COMMAND_WORKERS=0", m0)):
        lost = f" ({result.answered}/{commands} answered)" if result.answered < commands else ""
        rows += [
            Row(f"`/mend status` ack p50, {CONCURRENCY} concurrent (ms){label}", result.p50_ms, b.p50_ms,
                "≤ 1.2× bare Bolt", result.p50_ms <= 1.2 * b.p50_ms),
            Row(f"`/mend status` ack p99, {CONCURRENCY} concurrent (ms){label}", result.p99_ms, b.p99_ms,
                "< 100 ms", result.p99_ms < 100),
            Row(f"`/mend status` end-to-end throughput (commands/s){label}{lost}", result.throughput,
                b.throughput, "≥ 0.8× bare Bolt", result.throughput >= 0.8 * b.throughput and not lost),
        ]
    return rows, memory


async def fanout_rows(folder: Path, *, count: int, postgres: bool) -> tuple[list[Row], Memory]:
    rows: list[Row] = []
    memory = Memory()
    targets = [("SQLite", lambda stack: f"sqlite:///{folder / 'fanout.db'}")]
    if postgres:
        targets.append(("PostgreSQL", lambda stack: stack.enter_context(fresh_database(_postgres(stack)))))
    for label, make_url in targets:
        with ExitStack() as stack:
            try:
                url = make_url(stack)
            except Exception as exc:  # noqa: BLE001 - no PostgreSQL here: say so in the table
                rows.append(Row(f"fan-out, {label}: not run ({exc.__class__.__name__})", None, None, "", None))
                continue
            result = await fanout.run(url, label, folder, count=count)
        ok = result.delivered == count + 1 and result.repeated == 0
        rows.append(Row(f"fan-out: {count} check-ins + 1 standup due at once, 30 ms/call, {label} — due → last "
                        f"post (s); {result.delivered} delivered, {result.repeated} repeated",
                        result.seconds, None, "< 5 s, none lost or repeated", result.seconds < 5 and ok))
        memory = max(memory, Memory(*result.memory_mb), key=lambda m: m.rss)
    return rows, memory


def _postgres(stack: ExitStack) -> str:
    given = os.environ.get(URL_VARIABLE)
    if given:
        return given
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError("no PostgreSQL")
    return stack.enter_context(throwaway_cluster(bin_dir))


PARTS = ("ack", "fanout", "standup")


async def main(quick: bool, only: tuple[str, ...] = PARTS) -> int:
    rows: list[Row] = []
    memory = Memory()
    with tempfile.TemporaryDirectory(prefix="mend-bench-") as tmp:
        folder = Path(tmp)
        if "ack" in only:
            ack_table, memory = await ack_rows(folder, commands=24 if quick else 400, warmup=4 if quick else 40)
            rows += ack_table
        if "fanout" in only:
            fan, fan_memory = await fanout_rows(folder, count=50 if quick else 1000, postgres=not quick)
            rows += fan
            if fan_memory.rss > memory.rss:
                memory = Memory(fan_memory.rss, fan_memory.pss, memory.single)
        if "standup" in only:
            s = await asyncio.to_thread(standup.run, folder, actions=100 if quick else 1000)
            rows.append(Row(f"standup render, one channel with {s.actions} actions (ms); {s.messages} message(s), "
                            f"{s.blocks} blocks, Block Kit limits {'kept' if s.within_limits else 'BROKEN'}",
                            s.median_ms, None, "< 50 ms, within limits", s.median_ms < 50 and s.within_limits))
        if memory.rss:
            rows.append(Row("`mend serve` and its command worker after the load: PSS (MB); their RSS summed "
                            f"{memory.rss:.0f} MB counts shared pages twice", memory.pss, None, "< 150 MB",
                            memory.pss < 150))
        if memory.single:
            rows.append(Row("`mend serve` RSS after the load, MEND_COMMAND_WORKERS=0 (one process) (MB)",
                            memory.single, None, "< 150 MB", memory.single < 150))
    print(f"Mend benchmarks{' (quick)' if quick else ''}: Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}\n")
    print(table(rows))
    return 0


def cli() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds: a smoke test")
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this measurement (repeatable); all of them by default")
    args = parser.parse_args()
    return asyncio.run(main(args.quick, tuple(args.only or PARTS)))


if __name__ == "__main__":
    sys.exit(cli())
