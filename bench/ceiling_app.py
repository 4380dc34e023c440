"""The ceiling for bench/waiting_room.py: the same two routes under the same gunicorn, doing nothing.

It answers a waiter's status of the real size, without a token, Redis or schemas, so what is left
between it and the real api is the waiting room's own cost; on a shared 2-core box, where the load
generator takes its share too, the ratio to it says more than either figure alone.
"""

from flask import Flask, jsonify

app = Flask(__name__)

CANNED = {
    "sale_id": 1,
    "state": "waiting",
    "sale_state": "open",
    "position": 4210,
    "people_ahead": 4209,
    "eta_seconds": 4209,
    "rate": 1.0,
    "rate_measured": False,
    "poll_after_seconds": 30,
    "opens_in_seconds": None,
    "ticket": None,
    "ticket_expires_at": None,
}


@app.post("/api/sales/<int:sale_id>/queue")
@app.get("/api/sales/<int:sale_id>/queue/me")
def waiter_status(sale_id: int):
    return jsonify(CANNED)
