"""The folder where a web server's worker processes keep their metric samples (prometheus-client's
multiprocess mode), for gunicorn's arbiter (yakku/gunicorn_conf.py) and granian's main process
(yakku/web_server.py) alike.

Each worker is a process of its own, so prometheus-client keeps their samples in files in
PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. The folder must be set before a worker imports
prometheus_client, must hold only this server's files (web, api and internal each need their own), and
must start empty. This module imports no prometheus_client itself: the server's main process must not
have it loaded before the folder is set, or the workers it forks keep single-process samples.
"""

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare() -> Path | None:
    """Give this server's workers an empty samples folder (set in the environment they inherit): the
    operator's, emptied, or a fresh one; the folder made here (to remove at exit), or None."""
    given = os.environ.get(MULTIPROC_DIR)
    if given:  # the operator's: emptied, as prometheus-client asks, but kept
        folder, made = Path(given), None
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        folder = made = Path(tempfile.mkdtemp(prefix="yakku-metrics-"))
    os.environ[MULTIPROC_DIR] = str(folder)
    return made


def remove(made: Path | None) -> None:
    """Remove the folder prepare() made (never the operator's)."""
    if made:
        shutil.rmtree(made, ignore_errors=True)
