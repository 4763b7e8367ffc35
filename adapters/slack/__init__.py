"""Mend on Slack: slack-bolt at the edge, neutral `Command`/`Reply` inside.

adapter.py (the AsyncApp, HTTP and Socket Mode), listeners.py (ack, then work), translate.py (payload →
Command), render.py (Reply → Block Kit), responder.py (which reply goes where), outbound.py (the Web API,
paced), modals.py, directory.py (names and zones), dedup.py (apply a delivery once).
"""
