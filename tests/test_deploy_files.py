"""Procfile and docker-compose.yml describe the same processes: both ways of deploying run the same thing;
the scrape config and the dashboard in deploy/ name the ports and the metrics yakku serves."""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from honcho.environ import parse_procfile
from prometheus_client import REGISTRY

from admission.metrics import SaleCollector
from yakku import metrics
from yakku.config import SECRET_NAMES
from yakku.queues import QueueCollector

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = parse_procfile((ROOT / "Procfile").read_text()).processes
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def compose_interpolated(text: str) -> str:
    """A compose value as the container sees it: `$$` is compose's escape for a literal `$`."""
    assert "$" not in text.replace("$$", ""), f"compose would fill this in from the host: {text}"
    return text.replace("$$", "$")


def test_the_procfile_names_the_platforms_processes():
    assert set(PROCFILE) == {"web", "api", "internal", "admitter", "worker", "events"}
    for command in PROCFILE.values():
        shlex.split(command)  # each line is one well-formed shell command


@pytest.mark.parametrize("process", list(PROCFILE))
def test_each_process_has_a_compose_service_running_its_procfile_line(process):
    service = SERVICES[process]
    assert service["command"][:2] == ["sh", "-c"]  # a shell, as honcho runs the line
    assert compose_interpolated(service["command"][2]) == PROCFILE[process]


@pytest.mark.parametrize("process", [*PROCFILE, "migrate"])
def test_each_app_service_is_configured_by_environment_and_waits_for_its_backends(process):
    service = SERVICES[process]
    environment = service["environment"]
    assert re.match(r"mysql\+pymysql://.*@db:3306/", environment["DATABASE_URL"])
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", environment["REDIS_URL"])
    assert environment["BIND_HOST"] == "0.0.0.0"
    for secret in SECRET_NAMES:
        assert f"YAKKU_{secret}" in environment  # shared by every process
    assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    if process != "migrate":
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_servers_listen_on_every_interface_in_containers_and_loopback_by_default():
    assert "--host ${BIND_HOST:-127.0.0.1} " in PROCFILE["web"]  # granian
    for process in ("api", "internal"):  # gunicorn
        assert "--bind ${BIND_HOST:-127.0.0.1}:" in PROCFILE[process]


def test_the_internal_pool_is_the_api_app_on_its_own_port_and_not_published():
    assert PROCFILE["internal"].replace("internal()", "api()") == (
        PROCFILE["api"]
        .replace("${API_PORT:-8001}", "${INTERNAL_PORT:-8002}")
        .replace("${API_CONCURRENCY:-2}", "${INTERNAL_CONCURRENCY:-2}")
        .replace("${API_THREADS:-8}", "${INTERNAL_THREADS:-8}")
    )
    assert "ports" not in SERVICES["internal"]  # only the services in compose reach it
    assert SERVICES["internal"]["environment"]["INTERNAL_URL"] == "http://internal:8002"


def test_backends_are_mysql_8_and_redis_7_with_health_checks():
    assert SERVICES["db"]["image"].startswith("mysql:8")
    assert SERVICES["redis"]["image"].startswith("redis:7")
    assert SERVICES["db"]["healthcheck"]["test"] and SERVICES["redis"]["healthcheck"]["test"]


def test_the_redis_service_requires_the_password_the_services_connect_with():
    command = SERVICES["redis"]["command"]
    assert command[0] == "redis-server"  # so the image's entrypoint drops root and sets umask 0077
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")  # compose refuses to start without one
    assert "ports" not in SERVICES["redis"]
    assert SERVICES["redis"]["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD")


def test_migrate_upgrades_the_schema_once_before_the_processes_start():
    assert "yakku db upgrade" in SERVICES["migrate"]["command"][-1]
    assert SERVICES["migrate"]["restart"] == "no"


def test_the_image_installs_the_project_on_python_3_11():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^RUN pip install .*-e \.", dockerfile, re.M)


PROMETHEUS = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "yakku-dashboard.json").read_text())
SCRAPES = {job["job_name"]: job for job in PROMETHEUS["scrape_configs"]}


def scrape_targets(job: dict) -> set[str]:
    static = {target for group in job.get("static_configs", []) for target in group["targets"]}
    found = {f"{name}:{sd['port']}" for sd in job.get("dns_sd_configs", []) for name in sd["names"]}
    return static | found


def test_prometheus_scrapes_every_process_where_it_serves_its_metrics():
    environment = SERVICES["web"]["environment"]
    assert set(SCRAPES) == set(PROCFILE)
    assert scrape_targets(SCRAPES["web"]) == {f"web:{environment['WEB_PORT']}"}
    assert scrape_targets(SCRAPES["api"]) == {f"api:{environment['API_PORT']}"}
    assert scrape_targets(SCRAPES["worker"]) == {f"worker:{metrics.WORKER_PORT}"}
    assert scrape_targets(SCRAPES["admitter"]) == {f"admitter:{metrics.ADMITTER_PORT}"}
    assert scrape_targets(SCRAPES["events"]) == {f"events:{metrics.EVENTS_PORT}"}
    assert scrape_targets(SCRAPES["internal"]) == {f"internal:{environment['INTERNAL_PORT']}"}
    for job in SCRAPES.values():
        assert job["metrics_path"] == "/metrics"


def test_prometheus_shows_web_and_api_the_token_their_metrics_ask_for():
    command = SERVICES["prometheus"]["entrypoint"][-1]
    for process in ("web", "api"):
        authorization = SCRAPES[process]["authorization"]
        assert authorization["type"] == "Bearer"
        assert f"> {authorization['credentials_file']}" in command  # the file the service writes it to
    assert (
        SERVICES["web"]["environment"]["METRICS_TOKEN"]
        == SERVICES["prometheus"]["environment"]["METRICS_TOKEN"]
    )
    mounted = SERVICES["prometheus"]["volumes"][0].split(":")
    assert (ROOT / mounted[0]).resolve() == ROOT / "deploy" / "prometheus.yml"


def test_prometheus_and_grafana_start_only_with_the_metrics_profile():
    for service in ("prometheus", "grafana"):
        assert SERVICES[service]["profiles"] == ["metrics"]
        assert all(port.startswith("127.0.0.1:") for port in SERVICES[service]["ports"])
    for volume in SERVICES["grafana"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


def exposed_metric_names(app) -> set[str]:
    """Every series name yakku exposes: the metric objects' and the scrape-time collectors'."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    families = [
        *REGISTRY.collect(),
        *SaleCollector(app).collect(),
        *QueueCollector(app).collect(),
    ]
    return {family.name + suffix for family in families for suffix in suffixes.get(family.type, ("",))}


def dashboard_queries() -> list[str]:
    panels = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]
    variables = [variable["definition"] for variable in DASHBOARD["templating"]["list"]]
    return [target["expr"] for panel in panels for target in panel["targets"]] + variables


def test_every_metric_the_dashboard_queries_is_one_yakku_exposes(app):
    queried = {name for query in dashboard_queries() for name in re.findall(r"\byakku_\w+", query)}
    exposed = exposed_metric_names(app)
    assert queried and queried <= exposed, queried - exposed


def test_the_dashboard_shows_what_an_operator_watches_during_a_sale():
    queries = " ".join(dashboard_queries())
    for name in (
        "yakku_http_requests_total",
        "yakku_http_request_duration_seconds_bucket",
        "yakku_sale_waiting",
        "yakku_sale_admitted",
        "yakku_sale_sold",
        "yakku_sale_admission_rate",
        "yakku_drain_batch_seconds_bucket",
        "yakku_queue_depth",
        "yakku_breaker_state",
    ):
        assert name in queries
    assert DASHBOARD["uid"] and all(
        panel["datasource"]["uid"] == "yakku-prometheus"
        for panel in DASHBOARD["panels"]
        if panel["type"] != "row"
    )
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["uid"] == "yakku-prometheus"
