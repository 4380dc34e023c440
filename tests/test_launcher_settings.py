"""`yakku up` reads its ports from the environment as the Procfile does; gunicorn says where it listens."""

import logging

from click.testing import CliRunner
from gunicorn.config import Config

from yakku import cli, launcher
from yakku.gunicorn_logging import ReusePortLogger


def test_up_takes_its_ports_from_web_port_api_port_and_internal_port(monkeypatch):
    started = []
    monkeypatch.setattr(launcher, "up", lambda ports, workers: started.append(ports) or 0)
    ports = {"WEB_PORT": "9100", "API_PORT": "9101", "INTERNAL_PORT": "9102"}
    result = CliRunner().invoke(cli.main, ["up"], env=ports)
    assert result.exit_code == 0, result.output
    assert started == [launcher.Ports(web=9100, api=9101, internal=9102)]
    CliRunner().invoke(cli.main, ["up", "--web-port", "9200"], env={"WEB_PORT": "9100"})
    assert started[-1].web == 9200  # an option given wins over the environment
    assert "env var: WEB_PORT" in CliRunner().invoke(cli.main, ["up", "--help"]).output


def test_gunicorn_names_the_address_each_worker_binds_under_reuse_port():
    config = Config()
    config.set("bind", ["127.0.0.1:8000", "[::1]:8000"])
    logger = ReusePortLogger(config)
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.error_log.addHandler(handler)
    logger.info("Listening at: %s (%s)", "", 1234)  # what the arbiter says when it binds nothing
    logger.info("Listening at: %s (%s)", "http://127.0.0.1:8001", 99)  # a bound arbiter: left as it is
    assert lines == [
        "Listening at: http://127.0.0.1:8000, http://[::1]:8000 (each worker binds it: --reuse-port) (1234)",
        "Listening at: http://127.0.0.1:8001 (99)",
    ]
