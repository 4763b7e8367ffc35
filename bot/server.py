"""`mend serve`: one aiohttp server running the Slack and Teams adapters and the delivery scheduler."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from datetime import timedelta
from typing import Protocol

from aiohttp import web

from bot.app import Core, build_core
from bot.config import Settings
from bot.metrics import METRICS, Metrics, metrics_endpoint, request_timer
from bot.outbound import Outbound
from bot.scheduler import DeliveryScheduler
from bot.workers import CommandWorkers, forking_is_safe

log = logging.getLogger(__name__)

CORE = web.AppKey("core", Core)
SCHEDULER = web.AppKey("scheduler", DeliveryScheduler)
ADAPTERS = web.AppKey("adapters", list)


class PlatformAdapter(Protocol):
    """What a chat platform plugs into the server: its routes, its outbound, its own start and stop."""

    platform: str

    @property
    def outbound(self) -> Outbound: ...

    def mount(self, app: web.Application) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def platform_adapters(core: Core) -> list[PlatformAdapter]:
    """The adapters this configuration turns on. Each is imported only when it is used."""
    adapters: list[PlatformAdapter] = []
    if core.settings.slack_enabled:
        from adapters.slack.adapter import SlackAdapter

        adapters.append(SlackAdapter(core))
    if core.settings.teams_credentials or core.settings.teams_emulator:
        from adapters.teams.adapter import TeamsAdapter

        adapters.append(TeamsAdapter(core))
    return adapters


async def _teams_off(request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "Teams is not configured: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, "
                  "or MEND_TEAMS_EMULATOR=1 for local testing."},
        status=401,
    )


async def healthz(request: web.Request) -> web.Response:
    core = request.app[CORE]
    scheduler = request.app[SCHEDULER]
    database = await asyncio.to_thread(core.db.ping)
    body: dict[str, object] = {
        "database": "ok" if database else "unavailable",
        "scheduler": "running" if scheduler.running else "stopped",
        "adapters": [a.platform for a in request.app[ADAPTERS]],
        "command_workers": core.engine.workers.alive() if core.engine.workers is not None else 0,
    }
    if database:
        body["oldest_overdue_seconds"] = await asyncio.to_thread(scheduler.oldest_overdue_seconds)
    healthy = database and scheduler.running
    body["status"] = "ok" if healthy else "unhealthy"
    return web.json_response(body, status=200 if healthy else 503)


def build_web_app(core: Core, *, extra_outbounds: dict[str, Outbound] | None = None) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024, middlewares=[request_timer])
    app[METRICS] = metrics = Metrics()  # before the adapters mount, so they can find it
    adapters = platform_adapters(core)
    outbounds: dict[str, Outbound] = dict(extra_outbounds or {})
    for adapter in adapters:
        adapter.mount(app)
        outbounds[adapter.platform] = adapter.outbound
    if not any(a.platform == "teams" for a in adapters):
        app.router.add_post("/api/messages", _teams_off)
    scheduler = DeliveryScheduler(core.db, core.engine, outbounds, core.clock, metrics=metrics,
                                  tick_seconds=core.settings.tick_seconds, lease=lease_from(core.settings))
    app[CORE], app[SCHEDULER], app[ADAPTERS] = core, scheduler, adapters
    core.engine.on_command = metrics.observe_command
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)

    async def on_startup(app: web.Application) -> None:
        for adapter in adapters:
            await adapter.start()
        scheduler.start()

    async def on_cleanup(app: web.Application) -> None:
        await scheduler.stop()
        for adapter in adapters:
            await adapter.stop()
        core.db.dispose()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def lease_from(settings: Settings) -> timedelta:
    """How long a claimed delivery stays with a replica that stopped answering (`MEND_LEASE_SECONDS`,
    default 120): the longest a dead replica can delay a reminder. Live replicas renew their leases."""
    return timedelta(seconds=settings.lease_seconds)


def _settle_memory() -> None:
    """A long-running server's garbage collector: what start-up built (modules, mappers, the playbook) is
    frozen out of collection, and young collections run less often. Each command makes thousands of
    short-lived ORM objects; at the default threshold (700) the collector ran every few commands and its
    pauses were the slowest acks (p99 halved with this; docs/PERFORMANCE.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _start_workers(app: web.Application, core: Core) -> None:
    """Fork the command workers (bot/workers.py) now, while this process has a single thread."""
    wanted = core.settings.command_workers
    if wanted <= 0 or not forking_is_safe():
        return
    workers = CommandWorkers(core.engine, wanted)
    core.engine.workers = workers

    async def stop_workers(app: web.Application) -> None:  # after the adapters drained their work
        await asyncio.to_thread(workers.shutdown)

    app.on_cleanup.append(stop_workers)
    log.info("%s command worker process(es): %s", wanted, ", ".join(map(str, workers.pids())))


def run_server(settings: Settings, *, host: str, port: int) -> int:
    core = build_core(settings, migrate=False)
    app = build_web_app(core)  # an adapter missing a setting stops here, before the database is touched
    core.db.upgrade()
    _settle_memory()
    _start_workers(app, core)
    log.info("Mend listening on http://%s:%s (adapters: %s)", host, port,
             ", ".join(a.platform for a in app[ADAPTERS]) or "none configured")
    web.run_app(app, host=host, port=port, print=None, handle_signals=True,
                shutdown_timeout=15.0)
    return 0


__all__ = ["build_web_app", "run_server", "healthz", "CORE", "SCHEDULER", "signal"]
