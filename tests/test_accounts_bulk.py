"""Shoppers in bulk for load tests: how many, idempotent, and each one can log in."""

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.accounts.bulk import CHUNK, create_verified_shoppers, shopper_email
from api.accounts.exceptions import InvalidAccountData
from api.accounts.models import Account
from yakku.cli import main
from yakku.extensions import db

PASSWORD = "load-test-password"


def bulk_count(app, prefix: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(Account.email.like(f"{prefix}%@%")))


def test_it_creates_the_count_asked_across_chunks(app):
    with app.app_context():
        assert create_verified_shoppers(CHUNK + 5, PASSWORD, prefix="chunky") == CHUNK + 5
    assert bulk_count(app, "chunky") == CHUNK + 5


def test_a_second_run_keeps_existing_shoppers_and_adds_only_the_missing(app):
    with app.app_context():
        assert create_verified_shoppers(3, PASSWORD, prefix="again") == 3
        assert create_verified_shoppers(5, PASSWORD, prefix="again") == 2
        assert create_verified_shoppers(5, PASSWORD, prefix="again") == 0
    assert bulk_count(app, "again") == 5


@pytest.mark.parametrize("number", [1, 4])
def test_every_bulk_shopper_is_verified_and_logs_in(app, client, number):
    with app.app_context():
        create_verified_shoppers(4, PASSWORD, prefix="login")
    answer = client.post(
        "/api/accounts/login", json={"email": shopper_email("login", number), "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.json
    me = client.get("/api/accounts/me", headers={"Authorization": f"Bearer {answer.json['access_token']}"})
    assert me.json["role"] == "shopper" and me.json["email"] == shopper_email("login", number)


def test_a_wrong_password_does_not_log_a_bulk_shopper_in(app, client):
    with app.app_context():
        create_verified_shoppers(1, PASSWORD, prefix="wrong")
    answer = client.post(
        "/api/accounts/login", json={"email": shopper_email("wrong", 1), "password": "nope" * 3}
    )
    assert answer.status_code == 401


def test_a_too_short_password_is_refused(app):
    with app.app_context(), pytest.raises(InvalidAccountData):
        create_verified_shoppers(2, "short", prefix="short")
    assert bulk_count(app, "short") == 0


def test_yakku_seed_buyers_runs_on_the_deployment_the_environment_names(app, redis_url, database_url):
    env = {"REDIS_URL": redis_url, "DATABASE_URL": database_url}
    first = CliRunner().invoke(main, ["seed-buyers", "--count", "3", "--prefix", "cli"], env=env)
    assert first.exit_code == 0, first.output
    assert "3 created, 0 existed" in first.output
    second = CliRunner().invoke(main, ["seed-buyers", "--count", "4", "--prefix", "cli"], env=env)
    assert "1 created, 3 existed" in second.output
    assert bulk_count(app, "cli") == 4
