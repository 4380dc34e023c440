"""The factories build apps from explicit config, and open no connection until asked."""

import pytest

from yakku.factory import create_api_app


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
    assert "yakku.redis" in app.extensions  # built, never connected: port 1 has no server


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


def test_web_app_builds(live_api, web):
    assert web.get("/").status_code == 200


def test_the_whole_openapi_document_is_served(client):
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    assert "/api/orders" in answer.json["paths"]


@pytest.mark.parametrize("service", ["accounts", "catalog", "wishlist", "orders", "payments", "sales"])
def test_each_service_serves_its_own_openapi_document(client, service):
    answer = client.get(f"/api/{service}/openapi.json")
    assert answer.status_code == 200
    paths = answer.json["paths"]
    assert paths and all(path.startswith(f"/api/{service}") for path in paths)


def test_documented_errors_have_the_stable_shape(client):
    schemas = client.get("/api/openapi.json").json["components"]["schemas"]
    error = next(
        schema
        for name, schema in schemas.items()
        if name.startswith("Error") and "error" in schema.get("properties", {})
    )
    assert error["required"] == ["error"]


def test_an_unknown_service_has_no_document(client):
    assert client.get("/api/nothing/openapi.json").status_code == 404


def test_moved_ports_give_the_urls_the_processes_use(monkeypatch, config):
    monkeypatch.delenv("API_URL", raising=False)
    monkeypatch.setenv("API_PORT", "9101")
    monkeypatch.setenv("WEB_PORT", "9100")
    base = {key: value for key, value in config.items() if key not in ("API_URL", "PUBLIC_URL")}
    app = create_api_app(base)
    assert app.config["API_URL"] == "http://127.0.0.1:9101"
    assert app.config["PUBLIC_URL"] == "http://127.0.0.1:9100"


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/99999999999999999999",
        "/api/sales/99999999999999999999",
        "/api/catalog/products/2147483648",
    ],
)
def test_an_id_too_large_for_any_row_is_not_found_rather_than_a_crash(client, operator, path):
    answer = client.get(path, headers=operator.headers)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_a_database_that_is_away_answers_503_so_callers_try_again(_schema, config, tmp_path):
    app = create_api_app({**config, "DATABASE_URL": f"sqlite:///{tmp_path / 'gone' / 'yakku.db'}"})
    answer = app.test_client().get("/api/catalog/products")
    assert answer.status_code == 503
    assert answer.json["error"]["code"] == "database_unavailable"
