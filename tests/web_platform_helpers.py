"""The Procfile's processes serving real shoppers' browsers, as tests drive them: the web and the api,
the admitter and a worker on the test's database and a Redis of the test's own, and shoppers who poll the
waiting room's page as htmx does and check out when their turn comes.
"""

import re
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import requests
from honcho.environ import parse_procfile
from process_helpers import YAKKU, Processes
from sale_helpers import GOOD_CARD
from test_sale_recovery import process_env

from admission.keys import sale_keys
from yakku.launcher import PROCFILE
from yakku.private_redis import PrivateRedis, free_port

TIMEOUT_S = 60.0
IN_LINE, FORMS = {"waiting", "standby"}, {"checkout", "declined", "fewer_left", "interrupted"}
FINAL = {"paid", "sold_out", "expired", "failed", "closed", "not_joined"}
PANEL = re.compile(r'id="sale-status"[^>]*data-kind="(\w+)"(?:[^>]*hx-trigger="every (\d+)s")?')
TICKET_FIELD = re.compile(r'<input[^>]*name="ticket"[^>]*value="([^"]+)"')
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Platform:
    """The Procfile's processes on the test's database and a Redis of their own, stopped and started again
    as a whole."""

    def __init__(self, config: dict, redis: PrivateRedis, folder: Path, settings: dict):
        self.redis, self.web_port = redis, free_port()
        self.api_port = int(config["API_URL"].rsplit(":", 1)[1])
        env = process_env(config, **settings)
        env.update(MAIL_URL=config["MAIL_URL"], YAKKU_INSTANCE_PATH=str(folder))
        self.processes = Processes(env, folder / "processes.log", timeout=TIMEOUT_S)

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, *names: str) -> None:
        for name in names:
            self.processes.start(name, self._command(name))

    def _command(self, name: str) -> list[str]:
        if name == "web":
            return procfile_command("web", WEB_PORT=str(self.web_port), WEB_CONCURRENCY="1")
        if name != "api":
            return [*YAKKU, name]
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        threads = ["--worker-class", "gthread", "--threads", "8"]
        return [
            gunicorn,
            "--bind",
            f"127.0.0.1:{self.api_port}",
            "--workers",
            "1",
            *threads,
            "yakku.wsgi:api()",
        ]

    def wait_until_serving(self) -> None:
        for url in (f"{self.web}/", f"http://127.0.0.1:{self.api_port}/api/health"):
            self.wait_for(f"{url} to answer", lambda url=url: _answers(url))

    def wait_for(self, what: str, ready) -> None:
        self.processes.wait_for(what, ready, every=0.1)

    def stop(self) -> None:
        """Every process, then Redis, as `yakku up` stops them."""
        self.processes.stop()
        self.redis.stop()


def procfile_command(name: str, **settings: str) -> list[str]:
    """The Procfile's line for `name`, its ${...} filled from `settings` (else its defaults), as argv: the
    process the test starts is the one the Procfile runs, with this venv's console scripts."""
    line = parse_procfile(PROCFILE.read_text()).processes[name]
    words = shlex.split(re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: settings.get(m[1], m[2]), line))
    return [str(Path(sys.executable).parent / words[0]), *words[1:]]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class WebShopper:
    """A shopper's browser on the waiting room: it polls on the page's hint, keeps trying while the shop
    does not answer, and checks out when told to."""

    number: int
    email: str
    password: str
    web: str
    http: requests.Session = field(default_factory=requests.Session)
    card: dict = field(default_factory=lambda: GOOD_CARD)
    shows_up: bool = True  # False: never checks out when the turn comes (a no-show)
    walks_away_after_decline: bool = False  # closes the page when the card is declined
    panels: list[str] = field(default_factory=list)  # every panel shown, in order
    shown_at: list[float] = field(default_factory=list)  # when each was first shown (monotonic)
    failed_polls: int = 0
    answered: list[float] = field(default_factory=list)  # when the shop answered it (monotonic)

    def log_in(self) -> None:
        self.http.headers["X-CSRFToken"] = self._csrf()
        answer = self.http.post(
            f"{self.web}/account/login", data={"email": self.email, "password": self.password}, timeout=10
        )
        assert answer.ok and "Log out" in answer.text, answer.status_code
        self.http.headers["X-CSRFToken"] = self._csrf()  # signing in starts a new session
        self.http.headers["HX-Request"] = "true"

    def _csrf(self) -> str:
        return CSRF.search(self.http.get(f"{self.web}/account/login", timeout=10).text).group(1)

    def join(self, sale_id: int) -> None:
        answer = self.http.post(f"{self.web}/sales/{sale_id}/join", timeout=10)
        assert answer.status_code == 200 and answer.headers.get("HX-Redirect"), answer.text[:500]

    @property
    def panel(self) -> str | None:
        return self.panels[-1] if self.panels else None

    def shop(self, sale_id: int, go: threading.Event, until: float) -> None:
        """Poll until a final panel; check out (once `go` is set) whenever the checkout form shows."""
        html = ""
        while self.panel not in FINAL and time.monotonic() < until:
            if self.panel == "declined" and self.walks_away_after_decline:
                return  # the page is closed: nobody asks for this shopper any more
            if self.panel in FORMS and go.is_set() and self.shows_up:
                html = self._ask("post", f"/sales/{sale_id}/checkout", data=self._checkout(html)) or html
                time.sleep(0.5)
                continue
            html = self._ask("get", f"/sales/{sale_id}/wait") or html
            hint = PANEL.search(html).group(2) if html and self.panel not in FORMS else None
            time.sleep(min(float(hint or 1), 2.0))  # the page's hint (the form's: once a second here)

    def _ask(self, method: str, path: str, **kwargs) -> str | None:
        try:
            answer = self.http.request(method, f"{self.web}{path}", timeout=5, **kwargs)
        except requests.RequestException:
            answer = None
        if answer is None or answer.status_code >= 500:
            self.failed_polls += 1  # the shop is away: ask again on the same hint, as the page does
            return None
        self.answered.append(time.monotonic())
        kind = PANEL.search(answer.text).group(1)
        if kind != self.panel:
            self.panels.append(kind)
            self.shown_at.append(time.monotonic())
        return answer.text

    def _checkout(self, html: str) -> dict:
        card = {**self.card, "exp_year": date.today().year + 3}  # the form offers the next 12 years
        return {"ticket": TICKET_FIELD.search(html).group(1), "quantity": 1, **card}


@pytest.fixture
def own_redis(config, tmp_path):
    """A Redis kept on its append-only file, for the test and its processes (and the API's port): asked for
    before `app`, so the app is built on them."""
    server = PrivateRedis(tmp_path / "redis", persist=True).start()
    # Every role on it (also in a run that puts the sales on a cluster): the platform stops it whole.
    config["REDIS_URL"] = config["SALES_REDIS_URL"] = config["QUEUE_REDIS_URL"] = server.url
    config["API_URL"] = f"http://127.0.0.1:{free_port()}"
    yield server
    server.stop()


@pytest.fixture
def platform(own_redis, app, config, tmp_path, platform_settings):
    """The platform's processes (none started yet) with the test module's `platform_settings`."""
    platform = Platform(config, own_redis, tmp_path, platform_settings)
    yield platform
    platform.stop()
    platform.redis.start()  # for the app fixture's clean-up


def sale_ticket(app, sale_id: int, shopper_id: int) -> str | None:
    """The ticket the shopper was issued in the sale, if any."""
    return app.extensions["yakku.sales_redis"].hget(sale_keys(sale_id).shopper_ticket, shopper_id)


def first_shown(shopper: WebShopper, panel: str) -> float | None:
    """When the shopper was first shown this panel (monotonic), if ever."""
    return next(
        (at for kind, at in zip(shopper.panels, shopper.shown_at, strict=True) if kind == panel), None
    )
