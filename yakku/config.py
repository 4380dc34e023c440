"""Configuration: defaults, then the environment, then the mapping a caller (or a test) passes."""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

DEFAULTS = {
    "PUBLIC_URL": "http://127.0.0.1:8000",
    "API_URL": "http://127.0.0.1:8001",
    "INTERNAL_URL": "http://127.0.0.1:8002",  # where the internal pool says it is (yakku.wsgi:internal)
    # Where the pages in line listen for the end of their sale (the events process); unset, they poll.
    "EVENTS_URL": "",
    "MAIL_SENDER": "Yakku <no-reply@yakku.test>",
    "MAIL_TIMEOUT": 10.0,  # seconds to reach the SMTP server
    "OPERATOR_EMAIL": "operator@example.com",  # the operator account the seed creates
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # A MySQL statement unanswered this long fails (503 database_unavailable) instead of holding its
    # thread for ever when the network goes silent or the server freezes. Above InnoDB's 50 s lock wait,
    # which a statement may spend legitimately; 0 for none (a migration that rewrites a large table).
    "DATABASE_TIMEOUT_S": 60,
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=7),
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_ALGORITHM": "HS256",  # here, not only in flask-jwt-extended: the storefront verifies tokens too
    "VERIFICATION_MAX_AGE": int(timedelta(days=2).total_seconds()),
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "yakku-limits",
    "RATELIMIT_STRATEGY": "moving-window",
    "AUTH_RATE_LIMIT": "20 per minute",  # per e-mail and caller, in the accounts service
    "WEB_AUTH_RATE_LIMIT": "30 per minute",  # per client address, at the storefront
    "UNPAID_ORDER_HOLD_MINUTES": 15,  # an unpaid shop order's units go back after this
    # A payment pending for less than this may still be in flight: settling leaves it alone. It outlasts
    # the longest call that could still be charging it (PAYMENT_CHARGE_TIMEOUT_S, SERVICE_TIMEOUT retries).
    "ORDER_SETTLE_AFTER_S": 60,
    "MAX_OPEN_UNPAID_ORDERS": 3,  # unpaid shop orders one shopper may have open at once
    "WTF_CSRF_TIME_LIMIT": None,
    # No body of ours comes near 1 MiB (the largest is the drain's batch of sale orders); beyond, 413.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "PASSWORD_HASH_PROFILE": "default",  # "load-test" for load tests only: api/accounts/passwords.py
}

# Twelve-factor names read as they are, without the YAKKU_ prefix.
PLAIN_ENVIRONMENT = (
    "DATABASE_URL",
    "REDIS_URL",
    "SALES_REDIS_URL",
    "QUEUE_REDIS_URL",
    "MAIL_URL",
    "PUBLIC_URL",
    "API_URL",
    "INTERNAL_URL",
    "EVENTS_URL",
    "METRICS_TOKEN",
)

# Keys that must be shared by every process of one deployment; generated once when unset.
SECRET_NAMES = (
    "SECRET_KEY",
    "JWT_ACCESS_SECRET",
    "JWT_REFRESH_SECRET",
    "SERVICE_SECRET",
    "TICKET_SECRET",
)
# The private Redis's password: in secrets.json beside them, but no app setting (REDIS_URL carries it).
REDIS_PASSWORD = "REDIS_PASSWORD"
INSTANCE_SECRETS = (*SECRET_NAMES, REDIS_PASSWORD)


def instance_path() -> str:
    """The folder for the embedded database, Redis data, secrets and the mail outbox."""
    return os.path.abspath(os.environ.get("YAKKU_INSTANCE_PATH") or os.path.join(os.getcwd(), "instance"))


def configure(app: Flask, config: dict | None = None) -> None:
    """Fill app.config from defaults, the environment and `config`, in that order."""
    app.config.from_mapping(DEFAULTS)
    for name in PLAIN_ENVIRONMENT:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    # Under honcho with moved ports (API_PORT=9001 ...), the processes find each other on loopback.
    for url, port in (("API_URL", "API_PORT"), ("PUBLIC_URL", "WEB_PORT"), ("INTERNAL_URL", "INTERNAL_PORT")):
        if not os.environ.get(url) and os.environ.get(port, "").isdigit():
            app.config[url] = f"http://127.0.0.1:{os.environ[port]}"
    app.config.from_prefixed_env("YAKKU")
    if config:
        app.config.from_mapping(config)
    _derive(app)


def _derive(app: Flask) -> None:
    cfg = app.config
    instance = Path(app.instance_path)
    cfg["EVENTS_URL"] = cfg["EVENTS_URL"].rstrip("/")
    cfg.setdefault("DATABASE_URL", f"sqlite:///{instance / 'yakku.db'}")
    cfg.setdefault("MAIL_URL", f"file://{instance / 'outbox'}")
    cfg.setdefault("REDIS_URL", os.environ.get("REDIS_URL", ""))
    # Two Redis roles, each REDIS_URL unless set (yakku/extensions.py RedisStore): the sales' one may be a
    # Redis Cluster (redis+cluster://host:port, or rediss+cluster:// for TLS), the queues' one is plain.
    for role in ("SALES_REDIS_URL", "QUEUE_REDIS_URL"):
        cfg[role] = cfg.get(role) or cfg["REDIS_URL"]
    cfg["SQLALCHEMY_DATABASE_URI"] = database_uri(cfg["DATABASE_URL"])
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(uri, cfg["DATABASE_TIMEOUT_S"])
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg["QUEUE_REDIS_URL"] or "memory://")
    missing = [name for name in SECRET_NAMES if not cfg.get(name)]
    if missing:
        stored = load_or_create_secrets(instance)
        for name in missing:
            cfg[name] = stored[name]


def database_uri(url: str) -> str:
    """SQLAlchemy's URI for a DATABASE_URL, choosing PyMySQL for a bare mysql:// URL."""
    if url.startswith("mysql://"):
        url = "mysql+pymysql://" + url[len("mysql://") :]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


# How long reaching a MySQL server may take at most (PyMySQL's default is 10 s).
DATABASE_CONNECT_TIMEOUT_S = 10


def engine_options(uri: str, timeout_s: float) -> dict:
    """Engine options per backend: SQLite waits for the lock; MySQL recycles idle connections and, with
    `timeout_s` (0: none), gives up on a connection that leaves a statement unanswered that long (PyMySQL
    waits for ever by default)."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    options = {"pool_pre_ping": True, "pool_recycle": 280, "pool_size": 10, "max_overflow": 20}
    if timeout_s and uri.startswith("mysql+pymysql"):
        timeout = float(timeout_s)
        options["connect_args"] = {
            "connect_timeout": min(DATABASE_CONNECT_TIMEOUT_S, timeout),
            "read_timeout": timeout,
            "write_timeout": timeout,
        }
    return options


def load_or_create_secrets(instance: Path) -> dict:
    """Secrets of the embedded deployment, kept in instance/secrets.json (mode 0600) so every process
    agrees; a file written before a secret was added gets it added, the others kept."""
    path = instance / "secrets.json"
    instance.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _publish(instance, path, {name: secrets.token_urlsafe(32) for name in INSTANCE_SECRETS}, os.link)
    stored = json.loads(path.read_text())
    if any(name not in stored for name in INSTANCE_SECRETS):
        added = {name: secrets.token_urlsafe(32) for name in INSTANCE_SECRETS if name not in stored}
        _publish(instance, path, {**added, **stored}, os.replace)
        stored = json.loads(path.read_text())
    return stored


def _publish(instance: Path, path: Path, values: dict, put) -> None:
    """Write `values` to a draft readable by its owner only, then put it in place atomically: os.link,
    so the first process to link wins and the rest read its file; os.replace, to add to a file."""
    draft = instance / f".secrets.{os.getpid()}.json"
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(json.dumps(values))
    draft.chmod(0o600)  # a draft a killed process left behind had its own mode
    try:
        put(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
