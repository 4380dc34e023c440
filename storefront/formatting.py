"""Template filters: money in minor units, and times in the shop's zone (a setting, SHOP_TIMEZONE)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

from yakku.money import money

# The zone of the shop's default currency (KRW): times are stored in UTC and shown in this zone unless the
# SHOP_TIMEZONE setting names another IANA zone.
DEFAULT_ZONE = "Asia/Seoul"
SHOP_TIMEZONE = ZoneInfo(DEFAULT_ZONE)


def shop_zone() -> ZoneInfo:
    """The zone the shop shows and takes times in: the app's SHOP_TIMEZONE setting."""
    name = current_app.config.get("SHOP_TIMEZONE", DEFAULT_ZONE) if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def _instant(value: str | datetime | float) -> datetime:
    # An ISO timestamp, a datetime or epoch seconds; a naive one is taken as UTC (how the database kept it).
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(value: str | datetime | float | None, seconds: bool = False) -> str:
    """'2025-11-25 18:42 KST' in the shop's zone (its abbreviation follows daylight saving: EST, EDT)."""
    if not value:
        return ""
    local = _instant(value).astimezone(shop_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def iso(value: str | datetime | float | None) -> str:
    """The machine-readable form for a <time datetime="..."> attribute, with its offset."""
    if not value:
        return ""
    return _instant(value).isoformat()


def zone_label() -> str:
    """'Asia/Seoul, KST' or 'America/New_York, EDT': which zone the dashboard's times are in, now."""
    zone = shop_zone()
    return f"{zone.key}, {datetime.now(zone).strftime('%Z')}"


def humanize(state: str | None) -> str:
    """'payment_failed' -> 'Payment failed'."""
    return (state or "").replace("_", " ").capitalize()


def register(app: Flask) -> None:
    """Make the filters available to every template."""
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(iso, "iso")
    app.add_template_filter(humanize, "humanize")
    app.config.setdefault("SHOP_TIMEZONE", DEFAULT_ZONE)
    ZoneInfo(app.config["SHOP_TIMEZONE"])  # a misspelt zone fails at start, not on the first page
    app.add_template_global(zone_label, "shop_zone_label")
