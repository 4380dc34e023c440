"""The events process as a plain ASGI app: GET /sales/ID/end holds a Server-Sent Events stream open
until the sale ends, then sends the final panel and closes. Public, as the web's /end is: no cookies."""

import asyncio
import random
import re

from events.exceptions import TooManyListeners
from events.hub import Hub, SaleWatch
from events.settings import EventsSettings
from events.shop_end import ShopEnd

END_PATH = re.compile(r"/sales/(\d+)/end")
# The first bytes of every stream: the browser's EventSource opens on them, the page stops polling fast.
LISTENING = b": listening\n\n"
HEARTBEAT = b": still here\n\n"
# Past the bound the page keeps polling; the SSE extension tries again (0.5 s, doubling to 64 s).
FULL_RETRY_AFTER_S = b"30"


def create_app(settings: EventsSettings | None = None):
    """The ASGI app of one events process, on `settings` (else the environment's)."""
    settings = settings or EventsSettings.from_environment()
    hub = Hub(settings, ShopEnd(settings.web_url))
    cors = [(b"access-control-allow-origin", settings.shop_origin.encode())]

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return  # no lifespan to run, no websockets
        match = END_PATH.fullmatch(scope["path"])
        if not match or scope["method"] != "GET":
            await _answer(send, 404, b"Not found\n", cors)
            return
        try:
            async with hub.listening(int(match[1])) as watch:
                if await _stream(watch, settings.heartbeat_s, receive, send, cors):
                    hub.told += 1
        except TooManyListeners:
            full = [*cors, (b"retry-after", FULL_RETRY_AFTER_S)]
            await _answer(send, 503, b"Too many listeners: poll instead\n", full)

    app.hub = hub  # for the process's metrics (events/metrics.py)
    return app


async def _stream(watch: SaleWatch, heartbeat_s: float, receive, send, cors: list) -> bool:
    """Heartbeats until the sale ends (then its one event, and the end of the stream) or the page goes;
    whether the page was told the end."""
    headers = [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-store"),
        (b"x-accel-buffering", b"no"),  # nginx passes each event on at once
        *cors,
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": LISTENING, "more_body": True})
    told = asyncio.ensure_future(watch.ended.wait())
    gone = asyncio.ensure_future(_disconnected(receive))
    # A crowd connects within seconds: each stream's first heartbeat comes at a random point of the
    # interval, so they are sent spread out, not as one wave that could meet the end's.
    quiet_s = random.uniform(0.1, 1.0) * heartbeat_s
    try:
        while True:
            await asyncio.wait((told, gone), timeout=quiet_s, return_when=asyncio.FIRST_COMPLETED)
            quiet_s = heartbeat_s
            if gone.done():
                return False
            if told.done():
                await send({"type": "http.response.body", "body": watch.frame, "more_body": False})
                return True
            await send({"type": "http.response.body", "body": HEARTBEAT, "more_body": True})
    finally:
        told.cancel()
        gone.cancel()


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _answer(send, status: int, body: bytes, headers: list) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
