"""Serving the events app with uvicorn: one asyncio loop holds every stream, with room for as many
open files as listeners."""

import gc
import resource

import uvicorn

from events.app import create_app
from events.metrics import EventsCollector
from events.settings import EventsSettings
from yakku import metrics

# The garbage collector's thresholds. 10,000 streams are a million tracked objects, and collecting the
# older generations walks them: with the defaults, once the streams had lived a while, telling them all
# cost 0.6-0.9 s of CPU instead of 0.25 (bench/end_push.py), enough to miss the 2 s on a busy box.
# The young generation is still collected (every 50,000 allocations: most cycles die young there); the
# older ones seldom. Streams make few cycles, and refcounting frees the rest.
GC_THRESHOLDS = (50_000, 1000, 1000)
# Connections waiting to be accepted: a sale's crowd arrives at once (Linux caps it at somaxconn).
BACKLOG = 4096


def raise_open_files_limit(needed: int) -> int:
    """Lift the soft limit of open files towards `needed` (as far as the hard limit lets); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return wanted
    return soft


def serve(host: str, port: int, metrics_port: int = 0, settings: EventsSettings | None = None) -> None:
    """Run the events process until SIGTERM or Ctrl-C; its metrics on `metrics_port` (0: none)."""
    settings = settings or EventsSettings.from_environment()
    raise_open_files_limit(settings.max_listeners + 256)  # each listener is a socket; and the rest
    app = create_app(settings)
    if metrics_port:
        metrics.serve(metrics_port, host, EventsCollector(app.hub))
    gc.freeze()  # what the imports made lives as long as the process: no collection walks it again
    gc.set_threshold(*GC_THRESHOLDS)
    uvicorn.run(
        app,
        host=host,
        port=port,
        lifespan="off",
        access_log=False,  # a line per waiter would be 10,000 lines at the end of a sale
        log_level="info",
        backlog=BACKLOG,
        timeout_graceful_shutdown=2,  # streams are held open by design: end them soon after a stop
    )
