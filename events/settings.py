"""The events process's settings, from the environment by the names the other processes read."""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 8003
# 10,000 waiters per process is what bench/end_push.py measures; twice that leaves room for a second tab.
DEFAULT_MAX_LISTENERS = 20_000
# Each sale watched costs the web 4 asks a second, so a page naming made-up sales must not multiply
# them; a shop runs a few sales at once.
DEFAULT_MAX_SALES = 32
# The web caches a sale's end for 0.25 s (admission/lookup.py END_CHECK_FRESH_S): asking more often buys
# nothing, and ask + cache + one send stays well inside the 2 s rule 5 gives.
DEFAULT_ASK_EVERY_S = 0.25
# Proxies commonly drop an HTTP response silent for 30-60 s; a comment line every 15 s keeps it open.
DEFAULT_HEARTBEAT_S = 15.0


@dataclass(frozen=True)
class EventsSettings:
    """Where the events process asks the web, whom it answers, and how many it holds."""

    web_url: str  # where GET /sales/ID/end is asked
    shop_origin: str  # the origin whose pages may read the streams (CORS)
    max_listeners: int = DEFAULT_MAX_LISTENERS
    max_sales: int = DEFAULT_MAX_SALES  # sales watched at once (those not yet ended)
    ask_every_s: float = DEFAULT_ASK_EVERY_S
    heartbeat_s: float = DEFAULT_HEARTBEAT_S

    @classmethod
    def from_environment(cls, environ: dict | None = None) -> "EventsSettings":
        """PUBLIC_URL (or WEB_PORT's loopback, as the apps derive it), YAKKU_EVENTS_* for the rest."""
        env = os.environ if environ is None else environ
        public_url = env.get("PUBLIC_URL") or f"http://127.0.0.1:{env.get('WEB_PORT') or 8000}"
        return cls(
            web_url=(env.get("YAKKU_EVENTS_WEB_URL") or public_url).rstrip("/"),
            shop_origin=origin(public_url),
            max_listeners=int(env.get("YAKKU_EVENTS_MAX_LISTENERS") or DEFAULT_MAX_LISTENERS),
            max_sales=int(env.get("YAKKU_EVENTS_MAX_SALES") or DEFAULT_MAX_SALES),
            ask_every_s=float(env.get("YAKKU_EVENTS_ASK_EVERY_S") or DEFAULT_ASK_EVERY_S),
            heartbeat_s=float(env.get("YAKKU_EVENTS_HEARTBEAT_S") or DEFAULT_HEARTBEAT_S),
        )


def origin(url: str) -> str:
    """'https://shop.example:8443' of 'https://shop.example:8443/any/path'."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
