"""The console channel: the same commands a Slack user types, answered in the terminal."""

from adapters.console.channel import ConsoleChat, ConsoleOutbound, render_text

__all__ = ["ConsoleChat", "ConsoleOutbound", "render_text"]
