"""Command work in worker processes, so the serving process only acks, renders and posts.

Slack wants an ack within 3 seconds and Teams within 15, and the event loop that acks shares one
interpreter lock with every thread doing Python work. `mend serve` therefore forks its command workers
at start (`MEND_COMMAND_WORKERS`, default 1; 0 runs commands on threads in the serving process): the
engine's database and rendering work runs there, on the machine's other core, and the serving process
stays free to answer. A `Command` goes in and a list of `Reply` comes back, both plain pickled data.

Workers are forked before any thread starts (a fork with threads running can copy a held lock), after
`gc.freeze()`, so the start-up heap stays shared with the parent. A worker ignores SIGINT and SIGTERM
(the parent decides when work stops, and lets in-flight commands finish) and is killed if the parent dies,
so a `kill -9` of the server leaves no orphan holding the database. If a worker dies anyway, the command
it held gets an apology and every later command runs on threads in the serving process.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.engine import Engine
from bot.messages import Audience, Command, Reply

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # prctl(2)
LOST = ("Sorry, something went wrong on my side while I was working on that. Please check `status` before "
        "trying again: it may or may not have been saved.")
_engine: Engine | None = None  # the engine a forked worker inherited; set only in the parent, just before fork
_parent: int = 0


def _start_worker() -> None:
    """In the worker, right after fork: its own database connections, its own signals, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # workers are forked only on Linux (`forking_is_safe`), where it exists
        log.warning("prctl(PR_SET_PDEATHSIG) unavailable: this worker may outlive a killed server")
    if os.getppid() != _parent:  # the parent died before prctl took effect
        os._exit(0)
    assert _engine is not None
    _engine.db.engine.dispose(close=False)  # the parent's pooled connections stay the parent's


def _handle(command: Command) -> list[Reply]:
    assert _engine is not None, "a command worker runs only in a process forked by CommandWorkers"
    return _engine.handle(command)


def forking_is_safe() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


class CommandWorkers:
    """A pool of forked processes running `Engine.handle`. Start it before any thread exists."""

    def __init__(self, engine: Engine, processes: int) -> None:
        global _engine, _parent
        _engine, _parent = engine, os.getpid()
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker)
        self.pool.submit(int).result(timeout=30)  # forks every worker now, while the process has one thread

    async def run(self, command: Command) -> list[Reply] | None:
        """The replies, from a worker; None when there is no worker to run it (run it here instead)."""
        pool = self.pool
        if pool is None:
            return None
        try:
            future = pool.submit(_handle, command)
        except BrokenProcessPool:  # a worker died between commands: nothing of this one ran
            log.error("a command worker died; commands now run in the serving process")
            self.pool = None
            return None
        except RuntimeError:  # shut down (the server is stopping): run it here
            return None
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:  # the worker died holding it: it may or may not have committed
            log.error("a command worker died (request %s); commands now run in the serving process",
                      command.request_id)
            self.pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return [Reply(text=LOST, title="That didn't work", audience=Audience.PRIVATE, kind="error")]

    def pids(self) -> list[int]:
        return list(getattr(self.pool, "_processes", {}) or {})

    def alive(self) -> int:
        """How many workers take commands now (0 once the pool was lost: commands run in the server)."""
        processes = getattr(self.pool, "_processes", {}) or {}
        return sum(1 for process in processes.values() if process.is_alive())

    def shutdown(self) -> None:
        """Wait for the commands in flight, then let the workers go."""
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=False)


__all__ = ["CommandWorkers", "forking_is_safe"]
