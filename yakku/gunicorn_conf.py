"""gunicorn settings of the Procfile's api and internal lines (`--config python:yakku.gunicorn_conf`): the
metrics' multiprocess mode (yakku/metrics_samples.py) and an access log that names each request's id.
The arbiter gives its workers a samples folder of their own, removes it when it stops, and drops a dead
worker's gauges from it (child_exit).
"""

from yakku import metrics_samples

# gunicorn's default format, then the request id the app echoes in X-Request-ID (yakku/request_id.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'


def on_starting(server) -> None:
    """Give this server's workers an empty samples folder of their own."""
    server.yakku_metrics_dir = metrics_samples.prepare()


def child_exit(server, worker) -> None:
    """A worker ended: its live gauges no longer count (its counters stay, as Prometheus expects)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the folder this server made (never the operator's)."""
    metrics_samples.remove(getattr(server, "yakku_metrics_dir", None))
