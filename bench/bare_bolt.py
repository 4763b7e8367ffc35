"""The baseline: a bare slack-bolt app on aiohttp that acks `/mend` and posts one message, nothing else.

It is what any Bolt app costs (signature check, parsing, dispatch, one Web API call), so Mend's numbers
divided by these show what Mend itself adds: the database, the engine, Block Kit rendering.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def build() -> web.Application:
    token = os.environ["SLACK_BOT_TOKEN"]
    client = AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"])
    app = AsyncApp(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client,
                   process_before_response=False, logger=logging.getLogger("bare-bolt"))

    @app.command("/mend")
    async def mend(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=body["channel_id"], text=f"status for {body['channel_id']}")

    return app.web_app(path="/slack/events")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(build(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
