"""The ceiling for bench/waiting_room.py and bench/end_check.py: their routes, under the same server,
doing nothing.

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


# The end check (bench/end_check.py): the storefront's answer while a sale goes on, and the api's.
STILL_ON = {"ended": False, "state": None, "check_again_seconds": 1.5}


@app.get("/sales/<int:sale_id>/end")
def page_end_check(sale_id: int):
    return "", 204


@app.get("/api/sales/<int:sale_id>/end")
def api_end_check(sale_id: int):
    return jsonify(STILL_ON)
