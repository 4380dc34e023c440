"""The front door's clock: downtime is not the waiter's fault.

A waiter keeps their place by polling before a deadline; when the whole platform stops, every deadline
passes while nobody can poll. So the deadlines are kept on a clock that runs only while the front door
(the web processes, which answer the waiting room) is up: each web process beats it once a second from a
thread of its own (front_door.lua), the admitter reads it each tick and moves every sale's clock on by it
(clock.lua), and a gap in the beats is time that counts against nobody.

The beat comes from a thread, not from the polls: a sparse line has long gaps between polls that are no
outage (an earlier attempt that read "gaps between answered polls" stopped the clock in them).
"""

import logging
import threading
import time

import redis
from flask import Flask, current_app

from admission.keys import FRONT_DOOR_CLOCK
from admission.scripts import plain_script
from yakku.extensions import get_redis

log = logging.getLogger(__name__)


def beat(now: float | None = None) -> float:
    """Tell the clock the front door answers now; its reading."""
    return _front_door(now, beating=True)


def reading(now: float | None = None) -> float | None:
    """The front door's clock at `now` (wall time less every gap in its beats); None if it never beat."""
    return _front_door(now, beating=False)


def _front_door(now: float | None, beating: bool) -> float | None:
    now = time.time() if now is None else now
    args = [now, current_app.config["FRONT_DOOR_STALE_S"], int(beating)]
    answer = plain_script("front_door")([FRONT_DOOR_CLOCK], args, get_redis())
    return float(answer) if answer else None


class Beat:
    """A daemon thread that beats the front door's clock every FRONT_DOOR_BEAT_S while its process runs."""

    def __init__(self, app: Flask):
        self.app = app
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="yakku-front-door", daemon=True)

    def start(self) -> "Beat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with self.app.app_context():
            interval = float(current_app.config["FRONT_DOOR_BEAT_S"])
            while not self._stop.is_set():
                try:
                    beat()
                except redis.RedisError as away:
                    # No beat while Redis is away: no poll is answered either, so the gap is downtime.
                    log.debug("front door beat failed: %s", away)
                except Exception:  # a thread that died would stop every sale's clock for good
                    log.exception("front door beat failed")
                self._stop.wait(interval)
