"""The web as the Procfile runs it (granian's WSGI server): it logs each request, finishes what it is
answering when told to stop, and a second copy can listen on the same port, so a restart can overlap."""

import signal
import threading
import time

import pytest
import requests
from web_platform_helpers import own_redis, platform, procfile_command

pytestmark = pytest.mark.slow
WORKER_STARTED = "Started worker-1"  # what granian logs once a worker has loaded the app
__all__ = ["own_redis", "platform"]  # the platform's fixtures, used here


@pytest.fixture
def platform_settings():
    return {}


def end_check(web: str, sale_id: int, timeout: float = 5) -> int:
    """The status of the end check every page in line makes (204 while the sale goes on, or is unknown)."""
    return requests.get(f"{web}/sales/{sale_id}/end", timeout=timeout).status_code


def start_web(platform, name: str, workers: int = 1) -> None:
    """One more web on the platform's port, once its workers have started and the port answers."""
    command = procfile_command("web", WEB_PORT=str(platform.web_port), WEB_CONCURRENCY=str(workers))
    before = platform.processes.output.count(WORKER_STARTED) if platform.processes.running else 0
    platform.processes.start(name, command)
    platform.wait_for(f"{name} to start", lambda: platform.processes.output.count(WORKER_STARTED) > before)
    platform.wait_for(f"{name} to answer", lambda: _answers(platform.web))


def _answers(web: str) -> bool:
    try:
        return end_check(web, 1, timeout=2) == 204
    except requests.RequestException:
        return False


def test_the_web_logs_each_request_on_stdout(platform):
    start_web(platform, "web")
    assert end_check(platform.web, 4242) == 204
    line = '"GET /sales/4242/end HTTP/1.1" 204'
    platform.wait_for("the access line", lambda: line in platform.processes.output)


def test_the_web_finishes_the_request_in_flight_when_told_to_stop(platform):
    start_web(platform, "web")
    answers = []
    platform.redis.process.send_signal(signal.SIGSTOP)  # the end check now waits on Redis
    try:
        asking = threading.Thread(target=lambda: answers.append(end_check(platform.web, 4242, timeout=30)))
        asking.start()
        time.sleep(0.5)  # the request is in the web's hands
        web = platform.processes.running["web"]
        web.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert web.poll() is None  # still answering
    finally:
        platform.redis.process.send_signal(signal.SIGCONT)
    asking.join(timeout=30)
    assert answers == [204]
    assert web.wait(timeout=20) == 0
    # Not asserted here: that request's access line. granian writes it after the answer has gone, and a
    # worker stopping right then may exit before it does (CI saw it once); the test above checks the log.


def test_a_second_web_listens_on_the_same_port_and_serves_once_the_first_stops(platform):
    start_web(platform, "web")
    start_web(platform, "web, again")  # bound beside the first: SO_REUSEPORT
    first = platform.processes.running.pop("web")
    first.terminate()
    assert first.wait(timeout=20) == 0
    assert all(end_check(platform.web, 1) == 204 for _ in range(20))  # no refused connection


def test_one_scrape_counts_the_requests_every_worker_answered(platform):
    start_web(platform, "web", workers=2)
    platform.wait_for("its second worker", lambda: "Started worker-2" in platform.processes.output)
    before = end_checks_counted(platform.web)
    for _ in range(40):  # a connection each: the kernel spreads them over the two workers' sockets
        assert end_check(platform.web, 7) == 204
    # Both workers' samples, from the one folder yakku/web_server.py gave them (one worker's own
    # would hold about half).
    assert end_checks_counted(platform.web) - before == 40


def end_checks_counted(web: str) -> float:
    """The end checks the web's /metrics says it answered (every route's series of that rule)."""
    scrape = requests.get(f"{web}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in scrape.splitlines()
        if line.startswith("yakku_http_requests_total{") and 'route="/sales/<int:sale_id>/end"' in line
    )
