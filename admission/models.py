"""The sale as the database records it; its live figures are in Redis."""

from datetime import UTC, datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from admission.states import SaleState
from yakku.extensions import db

# A shopper whose card is declined has this long to try another before the units go back to the line.
DECLINE_GRACE_S = 60
# Settings that may change while the sale runs (the admitter reads them on every tick): column -> the
# field of the sale's settings hash in Redis.
LIVE_SETTINGS = {
    "admission_rate": "rate",
    "admitted_cap": "cap",
    "checkout_window_s": "window",
    "per_shopper_limit": "limit",
    "decline_grace_s": "decline_grace",
}


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC and read back as UTC.

    SQLite and MySQL DATETIME keep no offset: an aware value went in as its wall-clock digits, so a sale
    set to open at 05:14+09:00 came back as 05:14 UTC. Converting on the way in makes the digits UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("A naive datetime has no instant: give it an offset.")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Sale(db.Model):
    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint("admission_rate > 0", name="rate_positive"),
        CheckConstraint("admitted_cap > 0", name="cap_positive"),
        CheckConstraint("checkout_window_s > 0", name="window_positive"),
        CheckConstraint("per_shopper_limit > 0", name="limit_positive"),
        CheckConstraint("decline_grace_s > 0", name="decline_grace_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The catalog's product: another service's table, so no foreign key.
    product_id: Mapped[int] = mapped_column(Integer, index=True)
    units: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    admission_rate: Mapped[float] = mapped_column(db.Float)  # shoppers admitted per second
    admitted_cap: Mapped[int] = mapped_column(Integer)  # admitted shoppers not finished yet, at most
    checkout_window_s: Mapped[int] = mapped_column(Integer)
    per_shopper_limit: Mapped[int] = mapped_column(Integer, default=1)
    # How long a declined card's units wait for another card before they go back to the line.
    decline_grace_s: Mapped[int] = mapped_column(
        Integer, default=DECLINE_GRACE_S, server_default=str(DECLINE_GRACE_S)
    )
    state: Mapped[SaleState] = mapped_column(
        Enum(SaleState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=SaleState.DRAFT,
        index=True,
    )
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    name: Mapped[str] = mapped_column(String(200), default="")
    # The unsold units given back to the catalog once the sale closed (None until then): the settle's
    # record that outlives Redis, so a sale rebuilt after Redis lost it never gives them back twice.
    leftovers_returned: Mapped[int | None] = mapped_column(Integer)

    @property
    def opens_at_epoch(self) -> float:
        """The opening time in epoch seconds."""
        return self.opens_at.timestamp()

    def redis_settings(self) -> dict:
        """The sale's settings as its Redis settings hash holds them (beside its state and draw)."""
        settings = {field: getattr(self, column) for column, field in LIVE_SETTINGS.items()}
        settings["opens_at"] = self.opens_at_epoch
        settings["product_id"] = self.product_id  # the drain names it on the order without reading SQL
        return settings


class SaleDraw(db.Model):
    """A sale's published draw (docs/draw.md): the commitment once armed, the seed and entries once open."""

    __tablename__ = "sale_draws"

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), primary_key=True)
    commitment: Mapped[str] = mapped_column(String(64))  # SHA-256 of the seed, hex
    salt: Mapped[str] = mapped_column(String(64))  # the entry hashes' per-sale salt
    seed: Mapped[str | None] = mapped_column(String(64))  # hex; written only once the sale has opened
    # The entry hashes in draw order (place 1 first); JSON, as one sale may draw 100,000 of them.
    entries: Mapped[list | None] = mapped_column(JSON)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SaleRecovery(db.Model):
    """One repair of a sale's Redis state from the database (admission/recovery.py): what Redis had
    lost, and what was put back. Kept in the database, so the audit can tell it after Redis lost more."""

    __tablename__ = "sale_recoveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # a RecoveryKind
    detail: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
