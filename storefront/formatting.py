"""Template filters: money in minor units, and times as a shopper in Korea reads them."""

from datetime import UTC, datetime, timedelta, timezone

from flask import Flask

from yakku.money import money

SHOP_TIMEZONE = timezone(timedelta(hours=9), "KST")


def when(value: str | datetime | None, seconds: bool = False) -> str:
    """'2025-11-25 18:42 KST' for an ISO timestamp (a naive one is taken as UTC); with seconds if asked."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHOP_TIMEZONE).strftime(
        "%Y-%m-%d %H:%M:%S KST" if seconds else "%Y-%m-%d %H:%M KST"
    )


def iso(value: str | datetime | None) -> str:
    """The machine-readable form for a <time datetime="..."> attribute."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def humanize(state: str | None) -> str:
    """'payment_failed' -> 'Payment failed'."""
    return (state or "").replace("_", " ").capitalize()


def register(app: Flask) -> None:
    """Make the filters available to every template."""
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(iso, "iso")
    app.add_template_filter(humanize, "humanize")
