"""A flash sale's buyers for locust: each logs in, joins, polls as told, checks out when admitted, and stops.

Buyers are the bulk shoppers of `yakku seed-buyers` (buyer<n>@load.yakku.example, one password); each
simulated user takes the next n. The environment names the sale and the mix:

    SALE_ID            the sale to buy from, armed or open (required); joins before it opens wait in
                       its pre-queue, shuffled at opening, as real early birds would
    DECLINE_FRACTION   share of buyers paying with a card the sandbox declines (default 0); a declined
                       buyer walks away, so the sale's decline grace gives the units back to the line
    NO_SHOW_FRACTION   share of admitted buyers who never check out (default 0): their ticket's window
                       gives the units back
    BUYER_PASSWORD     the bulk shoppers' password (default: seed-buyers' default)
    BUYER_PREFIX       their e-mail prefix (default buyer)
    FIGURES_FILE       where to write the figures as JSON at the end (optional)

A buyer sleeps exactly the poll_after_seconds the server hints between status polls, and 1 s between
checkout-outcome polls. Told fewer_left (the last units were held by others), it asks once more for what
was left, then walks away; told interrupted (the platform stopped and charged nothing), it submits once
more. Its outcome is a custom event (request_type OUTCOME, name = the last state it
was told, response_time = ms from join to outcome). When every user has stopped the runner quits, so a
run ends by itself (and at --run-time at the latest); the figures are printed then.

    SALE_ID=1 locust -f locustfile.py --headless -u 500 -r 20 --run-time 180s \
        --host http://127.0.0.1:8001 --only-summary
"""

import itertools
import json
import os
import random
import statistics
import time
from collections import Counter

import gevent
from locust import FastHttpUser, events, task
from locust.exception import StopUser
from locust.runners import LocalRunner, MasterRunner

GOOD_CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
DECLINED_CARD = {**GOOD_CARD, "card_number": "4000000000000002"}
IN_LINE = frozenset({"waiting", "standby"})  # told to keep polling: their turn may still come
TIMEOUT = 30  # seconds any one request may take
RETRIES = 3  # tries of a login, waiting-room call or submit that timed out (status 0) or failed on the server
RETRYABLE = frozenset({0, 500, 502, 503, 504})

_numbers = itertools.count(1)  # one locust process hands out buyer numbers (run it without --processes)
outcomes: Counter = Counter()
times_to_outcome: list[float] = []
requests_by_state: Counter = Counter()
declines: Counter = Counter()  # why: a refused card, or a checkout the platform handed back to resubmit
outcome_at: dict[str, float] = {}  # the last moment (epoch s) any buyer learned each outcome


def refusal(label: str, answer) -> str:
    """A failed request's line in locust's error report; status 0 names the connection error."""
    if answer.status_code == 0:
        return f"{label}: no answer ({type(answer.error).__name__}: {answer.error})"
    return f"{label} answered {answer.status_code}"


class Buyer(FastHttpUser):
    """One shopper of the sale, from login to the outcome of their checkout."""

    # geventhttpclient rather than requests: several times less of locust's CPU per request, which
    # matters with 10,000 buyers on the cores that also run the platform.
    network_timeout = connection_timeout = TIMEOUT
    concurrency = 1  # a buyer has one request in flight at a time: one connection each, not a pool of 10

    def log_in(self) -> None:
        """Take the next buyer number and log in as that buyer (StopUser past -u or when refused)."""
        self.sale = int(os.environ["SALE_ID"])
        self.number = next(_numbers)
        if self.number > self.environment.parsed_options.num_users:
            # Locust tops the count up when users stop during the ramp: every buyer has had a turn.
            raise StopUser()
        email = f"{os.environ.get('BUYER_PREFIX', 'buyer')}{self.number}@load.yakku.example"
        password = os.environ.get("BUYER_PASSWORD", "load-test-password")
        for _ in range(RETRIES):  # a login timed out under load is tried again, as a person would
            answer = self.client.post("/api/accounts/login", json={"email": email, "password": password})
            if answer.status_code not in RETRYABLE:
                break
        if answer.status_code != 200:
            self.finish(f"login_{answer.status_code}", time.monotonic())
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    @task
    def buy(self) -> None:
        # In the task, not on_start: locust logs a StopUser raised in on_start with a traceback, and
        # at 10,000 buyers thousands of users stop early (sold out while the rest still spawn).
        self.log_in()
        joined = time.monotonic()
        status = self.queue_call("post", "/queue", "join")
        while status.get("state") in IN_LINE:
            gevent.sleep(status["poll_after_seconds"])
            status = self.queue_call("get", "/queue/me", "status")
        if status.get("state") != "admitted":
            self.finish(status.get("state") or status.get("error", {}).get("code", "error"), joined)
        if random.random() < float(os.environ.get("NO_SHOW_FRACTION", "0")):
            self.finish("no_show", joined)  # admitted, and never checks out
        card = (
            DECLINED_CARD if random.random() < float(os.environ.get("DECLINE_FRACTION", "0")) else GOOD_CARD
        )
        outcome = self.check_out(status["ticket"], 1, card, joined)
        if outcome["state"] == "fewer_left":
            # Others' units were held: ask once more for what was left (or a unit that may come back).
            gevent.sleep(1)
            outcome = self.check_out(status["ticket"], max(1, outcome["units_left"] or 0), card, joined)
        elif outcome["state"] == "interrupted":
            # The platform stopped before it finished and charged nothing: submit again, as asked.
            gevent.sleep(1)
            outcome = self.check_out(status["ticket"], 1, card, joined)
        self.finish(outcome["state"], joined)

    def check_out(self, ticket: str, quantity: int, card: dict, joined: float) -> dict:
        """Submit the checkout and wait for its outcome (final, declined, fewer_left or interrupted)."""
        refused = self.submit({"ticket": ticket, "quantity": quantity, "card": card})
        if refused:
            self.finish(refused, joined)
        return self.wait_for_outcome(ticket)

    def submit(self, body: dict) -> str | None:
        """Submit the checkout, again if no answer came (None: submitted), or the refusal's outcome.

        Asked again after a lost answer, the api says whether the first try arrived
        (checkout_in_progress, ticket_used): then the buyer watches its outcome, as a person would.
        """
        for attempt in range(RETRIES):
            with self.client.post(
                f"/api/sales/{self.sale}/checkout",
                json=body,
                headers=self.auth,
                name="/api/sales/[id]/checkout [submit]",
                catch_response=True,
            ) as answer:
                if answer.status_code == 202:
                    return None
                code = (answer.json().get("error") or {}).get("code") if answer.status_code == 409 else None
                if attempt and code in ("checkout_in_progress", "ticket_used"):
                    answer.success()
                    return None
                answer.failure(refusal("submit", answer))
                if answer.status_code not in RETRYABLE:
                    break
            gevent.sleep(1)
        return f"submit_{answer.status_code}"

    def queue_call(self, method: str, path: str, label: str) -> dict:
        """A join or status call, tried again after a timeout or a 5xx; the waiter status."""
        for _ in range(RETRIES - 1):
            status = self.queue_call_once(method, path, label)
            if status.get("state"):
                return status
            gevent.sleep(1)
        return self.queue_call_once(method, path, label)

    def queue_call_once(self, method: str, path: str, label: str) -> dict:
        """One join or status call; the waiter status, counted by the state it told."""
        with self.client.request(
            method,
            f"/api/sales/{self.sale}{path}",
            headers=self.auth,
            name=f"/api/sales/[id]/queue [{label}]",
            catch_response=True,
        ) as answer:
            try:
                status = answer.json()
            except (ValueError, TypeError):  # no body: a timeout or a dropped connection (status 0)
                status = {}
            if answer.status_code != 200:
                answer.failure(refusal(label, answer))
                if answer.status_code not in RETRYABLE:
                    status.setdefault("state", f"{label}_{answer.status_code}")  # a refusal: no retry
            requests_by_state[f"{label}:{status.get('state', answer.status_code)}"] += 1
            return status

    def wait_for_outcome(self, ticket: str) -> dict:
        """Poll the checkout's outcome once a second until it is final, declined (which ends the buyer
        too), fewer_left or interrupted; the outcome."""
        while True:
            gevent.sleep(1)
            with self.client.get(
                f"/api/sales/{self.sale}/checkout",
                params={"ticket": ticket},
                headers=self.auth,
                name="/api/sales/[id]/checkout [outcome]",
                catch_response=True,
            ) as answer:
                if answer.status_code != 200:
                    answer.failure(refusal("outcome", answer))
                    if answer.status_code in RETRYABLE:
                        continue  # no answer this time: ask again in a second
                    return {"state": f"outcome_{answer.status_code}"}
                checkout = answer.json()
            requests_by_state[f"outcome:{checkout['state']}"] += 1
            if checkout["state"] == "declined":
                declines[checkout.get("message", "")] += 1
            if checkout["final"] or checkout["state"] in ("declined", "fewer_left", "interrupted"):
                return checkout

    def finish(self, state: str, since: float) -> None:
        """Record the buyer's outcome as an OUTCOME event and stop this user."""
        elapsed = time.monotonic() - since
        outcomes[state] += 1
        outcome_at[state] = time.time()
        times_to_outcome.append(elapsed)
        self.environment.events.request.fire(
            request_type="OUTCOME",
            name=state,
            response_time=elapsed * 1000,
            response_length=0,
            exception=None,
            context={},
        )
        raise StopUser()


@events.init.add_listener
def _quit_when_everyone_stopped(environment, **_) -> None:
    """Once spawning is done, watch the users; when none is left, end the run."""
    runner = environment.runner

    def watch() -> None:
        while runner.user_count > 0:
            gevent.sleep(1)
        runner.quit()

    if isinstance(runner, LocalRunner | MasterRunner):  # a distributed run's workers leave it to the master
        environment.events.spawning_complete.add_listener(lambda **_: gevent.spawn(watch))


def figures() -> dict:
    """Outcome counts, join-to-outcome time (median, p95), requests per told state, declines by message."""
    times = sorted(times_to_outcome)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))] if times else None
    return {
        "outcomes": dict(outcomes),
        "buyers_finished": len(times),
        "median_s_to_outcome": statistics.median(times) if times else None,
        "p95_s_to_outcome": p95,
        "requests_by_state": dict(sorted(requests_by_state.items())),
        "declines": dict(declines),
        # From the last unit paid to the last waiter told the sale is sold out (negative: none was told).
        "last_paid_to_last_told_s": (
            round(outcome_at["sold_out"] - outcome_at["paid"], 2)
            if "sold_out" in outcome_at and "paid" in outcome_at
            else None
        ),
    }


@events.quitting.add_listener
def _print_figures(environment, **_) -> None:
    found = figures()
    print("\n=== sale outcome ===")
    print(f"buyers finished: {found['buyers_finished']}  outcomes: {found['outcomes']}")
    if found["median_s_to_outcome"] is not None:
        print(
            f"join -> outcome: median {found['median_s_to_outcome']:.1f} s, "
            f"p95 {found['p95_s_to_outcome']:.1f} s"
        )
    print(f"requests by told state: {found['requests_by_state']}")
    print(f"declines by message: {found['declines']}")
    print(f"last unit paid -> last waiter told sold out: {found['last_paid_to_last_told_s']} s")
    if os.environ.get("FIGURES_FILE"):
        with open(os.environ["FIGURES_FILE"], "w") as out:
            json.dump(found, out, indent=2)
