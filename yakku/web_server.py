"""The Procfile's web line: granian's WSGI server (docs/performance.md, "Front door": 1.23-1.42x the
waiting room's requests a second of gunicorn gthread beside it) with its worker processes' metrics added
up in one samples folder.

`python -m yakku.web_server ARGS` is `granian ARGS` (its command line, unchanged) with the folder set
before granian forks its workers (yakku/metrics_samples.py) and removed when it stops. granian has no
hook for a worker's end, so a worker that died keeps its last live gauges in the folder until the server
restarts (its counters stay, as they should).
"""

from granian.cli import entrypoint

from yakku import metrics_samples


def main() -> None:
    made = metrics_samples.prepare()
    try:
        entrypoint()
    finally:
        metrics_samples.remove(made)


if __name__ == "__main__":
    main()
