"""gunicorn settings of the Procfile's web and api lines (`--config python:yakku.gunicorn_conf`): the
metrics' multiprocess mode and an access log that names each request's id.

Each gunicorn worker is a process of its own, so prometheus-client keeps their samples in files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The directory must be set before a worker imports
prometheus_client (the app is loaded after the fork), must hold only this server's files (web and api
each need their own), and must start empty. So the arbiter makes a fresh one unless told, and removes
it when it stops; a dead worker's gauges are dropped from it (child_exit).
"""

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# gunicorn's default format, then the request id the app echoes in X-Request-ID (yakku/request_id.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def on_starting(server) -> None:
    """Give this server's workers an empty samples directory of their own."""
    given = os.environ.get(MULTIPROC_DIR)
    if given:  # the operator's: emptied, as prometheus-client asks, but kept
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        folder = Path(tempfile.mkdtemp(prefix="yakku-metrics-"))
        server.yakku_metrics_dir = folder
    os.environ[MULTIPROC_DIR] = str(folder)  # the workers forked from here inherit it


def child_exit(server, worker) -> None:
    """A worker ended: its live gauges no longer count (its counters stay, as Prometheus expects)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the directory this server made (never the operator's)."""
    folder = getattr(server, "yakku_metrics_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
