"""The factories build apps from explicit config, and open no connection until asked."""

from yakku import create_api_app


def test_config_mapping_wins_over_defaults(config):
    app = create_api_app({**config, "PUBLIC_URL": "http://example.test"})
    assert app.config["PUBLIC_URL"] == "http://example.test"
    assert app.config["TESTING"] is True


def test_environment_is_read_with_and_without_prefix(monkeypatch, config):
    monkeypatch.setenv("YAKKU_SERVICE_TIMEOUT", "2.5")
    monkeypatch.setenv("API_URL", "http://api.example.test")
    app = create_api_app(config)
    assert app.config["SERVICE_TIMEOUT"] == 2.5
    assert app.config["API_URL"] == "http://api.example.test"


def test_mysql_urls_use_pymysql_and_utf8mb4(config):
    app = create_api_app({**config, "DATABASE_URL": "mysql://root@127.0.0.1/shop"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "mysql+pymysql://root@127.0.0.1/shop?charset=utf8mb4"


def test_no_connection_is_opened_by_the_factory(config):
    app = create_api_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert "redis" in app.extensions  # built, never connected: port 1 has no server


def test_a_service_can_be_served_alone(config):
    app = create_api_app(config, services=("catalog",))
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert any(rule.startswith("/api/catalog") for rule in rules)
    assert not any(rule.startswith("/api/accounts") for rule in rules)


def test_health_checks_database_and_redis(client):
    answer = client.get("/api/health")
    assert answer.status_code == 200
    assert answer.json["database"] == "ok" and answer.json["redis"] == "ok"


def test_health_reports_a_dead_redis(_schema, config):
    app = create_api_app({**config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    answer = app.test_client().get("/api/health")
    assert answer.status_code == 503
    assert answer.json["redis"].startswith("error")


def test_unknown_path_answers_the_error_shape(client):
    answer = client.get("/api/nowhere")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


def test_web_app_builds(web):
    assert web.get("/").status_code == 200
