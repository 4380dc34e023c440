"""The dashboard's live figures, read from Redis only: the sale's counters, its tickets and checkouts, and
the RQ queues that drain them. Cheap enough to read every two seconds while a sale runs."""

import json
import time
from datetime import UTC, datetime

from flask import current_app
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from admission import series
from admission.checkout.records import CheckoutState
from admission.keys import sale_keys
from admission.sales import sale_figures
from admission.states import TicketState
from admission.stock import tickets_by_state
from yakku.extensions import get_sales_redis
from yakku.queues import QueueName


def live_figures(sale_id: int, now: float | None = None) -> dict:
    """Everything the figures panel shows for one sale, and a fresh sample for its chart."""
    now = time.time() if now is None else now
    figures = sale_figures(sale_id, now)
    tickets = tickets_by_state(sale_id)
    checkouts = checkout_counts(sale_id)
    if figures["live"]:
        series.sample(sale_id, now)
    return {
        **figures,
        "tickets": tickets,
        "checkouts": checkouts,
        "orders_paid": checkouts.get(CheckoutState.PAID, 0),
        "payments_declined": checkouts.get("declines", 0),
        "tickets_expired": tickets.get(TicketState.EXPIRED, 0),
        "queues": queue_figures(now),
    }


# The states a checkout whose last attempt was declined ends in.
DECLINE_ENDS = frozenset({CheckoutState.DECLINED, CheckoutState.FAILED})


def checkout_counts(sale_id: int) -> dict:
    """Checkouts by the state each shopper was last told, and how many card declines they met in all.

    A declined shopper may pay again; every attempt before the last was declined, so attempts - 1 of a
    checkout count as declines, plus the last one when it is itself a decline or ended failed.
    """
    counts: dict[str, int] = {"declines": 0}
    for raw in get_sales_redis().hvals(sale_keys(sale_id).checkouts):
        outcome = json.loads(raw)
        state, attempt = outcome["state"], int(outcome.get("attempt") or 0)
        counts[state] = counts.get(state, 0) + 1
        counts["declines"] += max(attempt - 1, 0) + (1 if state in DECLINE_ENDS else 0)
    return counts


def queue_figures(now: float | None = None) -> dict:
    """The checkout queue's depth, jobs running and failed, the age of its oldest job, workers online."""
    now = time.time() if now is None else now
    queue: Queue = current_app.extensions["yakku.rq"][QueueName.CHECKOUT]
    oldest = queue.get_job_ids(0, 1)
    job = Job.fetch(oldest[0], connection=queue.connection) if oldest else None
    return {
        "depth": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "failed": FailedJobRegistry(queue=queue).count,
        "workers": len(Worker.all(connection=queue.connection)),
        "oldest_age_s": _age(job.enqueued_at, now) if job and job.enqueued_at else None,
    }


def all_queues() -> list[dict]:
    """Every queue of the app, for the queues page: its counts and its most recent failures."""
    rows = []
    for name, queue in current_app.extensions["yakku.rq"].items():
        failed = FailedJobRegistry(queue=queue)
        failures = [
            job for job in Job.fetch_many(failed.get_job_ids(0, 9), connection=queue.connection) if job
        ]
        rows.append(
            {
                "name": name,
                "depth": queue.count,
                "running": StartedJobRegistry(queue=queue).count,
                "failed": failed.count,
                "failures": [
                    {"id": job.id, "what": job.func_name, "ended_at": job.ended_at, "error": _last_line(job)}
                    for job in failures
                ],
            }
        )
    return rows


def workers() -> list[dict]:
    """The RQ workers online: name, state, queues and the job each is on."""
    connection = next(iter(current_app.extensions["yakku.rq"].values())).connection
    return [
        {
            "name": worker.name,
            "state": worker.get_state(),
            "queues": ", ".join(worker.queue_names()),
            "job": worker.get_current_job_id() or "",
        }
        for worker in Worker.all(connection=connection)
    ]


def _age(moment: datetime, now: float) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0, int(now - moment.timestamp()))


def _last_line(job: Job) -> str:
    text = (job.exc_info or "").strip().splitlines()
    return text[-1][:300] if text else ""
