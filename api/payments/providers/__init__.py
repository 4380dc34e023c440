"""Payment provider adapters: the interface, the sandbox, the guard every adapter is called through, and
the choice of one per app."""

from flask import Flask, current_app

from api.payments.providers.base import (
    Card,
    ChargeRequest,
    PaymentMethod,
    PaymentProvider,
    ProviderError,
    ProviderResult,
    ProviderStatus,
    ProviderTimeout,
    ProviderUnavailable,
)
from api.payments.providers.guard import GuardedProvider
from api.payments.providers.sandbox import SandboxProvider

EXTENSION = "yakku.payment_provider"
# Every setting of the provider, with its default (README.md's table lists them as YAKKU_<NAME>).
DEFAULTS = {
    "PAYMENT_PROVIDER": "sandbox",
    # Seconds one charge may take: a charge not answered by then stays pending (settled later), and the
    # rest of its batch is answered on time. Well under SERVICE_TIMEOUT, so orders' call to payments
    # (and the drain's to orders) is answered before it gives up on the whole batch.
    "PAYMENT_CHARGE_TIMEOUT_S": 2.0,
    "PAYMENT_BREAKER_FAIL_MAX": 5,  # calls in a row with a charge past its deadline that open the breaker
    "PAYMENT_BREAKER_RESET_S": 10.0,  # how long the open breaker sends no charge before a trial call
    "SANDBOX_TIMEOUT": 0.2,  # seconds the sandbox's timeout card waits before failing
    "SANDBOX_SLOW_S": 6.0,  # seconds the sandbox's slow card takes to answer (it is captured at once)
    "SANDBOX_DECLINE_RATE": 0.0,  # share of otherwise-successful sandbox charges declined
}


def init_app(app: Flask) -> None:
    """Build the provider named by PAYMENT_PROVIDER (only "sandbox" ships) for this app, guarded."""
    config = app.config
    for name, value in DEFAULTS.items():
        config.setdefault(name, value)
    if config["PAYMENT_PROVIDER"] != "sandbox":
        raise ValueError(f"unknown payment provider: {config['PAYMENT_PROVIDER']}")
    decline_rate = float(config["SANDBOX_DECLINE_RATE"])
    if not 0 <= decline_rate <= 1:
        raise ValueError(f"SANDBOX_DECLINE_RATE must be between 0 and 1, not {decline_rate}")
    sandbox = SandboxProvider(
        app.extensions["yakku.redis"],
        timeout=float(config["SANDBOX_TIMEOUT"]),
        decline_rate=decline_rate,
        slow=float(config["SANDBOX_SLOW_S"]),
    )
    app.extensions[EXTENSION] = GuardedProvider(
        sandbox,
        charge_timeout=float(config["PAYMENT_CHARGE_TIMEOUT_S"]),
        fail_max=int(config["PAYMENT_BREAKER_FAIL_MAX"]),
        reset_s=float(config["PAYMENT_BREAKER_RESET_S"]),
    )


def get_provider() -> GuardedProvider:
    """The current app's payment provider, behind its guard (a deadline per charge, a breaker)."""
    return current_app.extensions[EXTENSION]


__all__ = [
    "Card",
    "ChargeRequest",
    "PaymentMethod",
    "PaymentProvider",
    "ProviderError",
    "ProviderResult",
    "ProviderStatus",
    "ProviderTimeout",
    "ProviderUnavailable",
    "get_provider",
    "init_app",
]
