"""A sale's figures over time: samples of admitted, sold and waiting, kept in Redis for the dashboard chart.

The admitter samples every live sale as it ticks, and the dashboard samples when it polls, so a chart
fills in whichever runs; a mark key with a short TTL keeps them to one sample per interval between them.
"""

import json
import time

from admission.keys import sale_keys
from yakku.extensions import get_sales_redis

SAMPLE_INTERVAL_S = 2
# One hour of samples at one every two seconds; older ones are dropped as new ones come in.
MAX_SAMPLES = 1800


def sample(sale_id: int, now: float | None = None, client=None, force: bool = False) -> bool:
    """Record the sale's admitted, sold and waiting figures now, unless a sample was taken lately."""
    now = time.time() if now is None else now
    client = client or get_sales_redis()
    keys = sale_keys(sale_id)
    if not client.set(keys.series_mark, now, nx=not force, px=int(SAMPLE_INTERVAL_S * 1000)):
        # The mark's TTL runs on the server's clock; a caller sampling for a later moment (an admitter
        # tick for `now`) is a new interval once `now` is an interval past the marked sample.
        marked = client.get(keys.series_mark)
        if marked is not None and now - float(marked) < SAMPLE_INTERVAL_S:
            return False
        client.set(keys.series_mark, now, px=int(SAMPLE_INTERVAL_S * 1000))
    pipe = client.pipeline(transaction=False)
    pipe.get(keys.ticket_sequence).get(keys.sold).zcard(keys.queue).scard(keys.prequeue)
    admitted, sold, queued, prequeued = pipe.execute()
    point = {"t": round(now, 3), "admitted": int(admitted or 0), "sold": int(sold or 0)}
    point["waiting"] = int(queued) + int(prequeued)
    pipe.zadd(keys.series, {json.dumps(point, sort_keys=True): now})
    pipe.zremrangebyrank(keys.series, 0, -MAX_SAMPLES - 1)
    pipe.execute()
    return True


def points(sale_id: int, client=None) -> list[dict]:
    """The sale's samples, oldest first: [{t, admitted, sold, waiting}, ...]."""
    client = client or get_sales_redis()
    return [json.loads(member) for member in client.zrange(sale_keys(sale_id).series, 0, -1)]
