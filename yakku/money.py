"""Money in minor units, as the shop shows it: one formatter for the pages and the e-mails alike."""

# Minor units per major unit, for the currencies the shop can show.
MINOR_UNITS = {"KRW": 0, "JPY": 0, "USD": 2, "EUR": 2}
SYMBOLS = {"KRW": "₩", "JPY": "¥", "USD": "$", "EUR": "€"}


def money(amount: int | None, currency: str = "KRW") -> str:
    """₩18,000 for 18000 KRW; $12.50 for 1250 USD. Integer arithmetic only: minor units never meet a float."""
    if amount is None:
        return ""
    digits = MINOR_UNITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(int(amount)), 10**digits)
    text = f"{major:,}" + (f".{minor:0{digits}d}" if digits else "")
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"
