"""The sale as the database records it; its live figures are in Redis."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from admission.states import SaleState
from yakku.extensions import db

# A shopper whose card is declined has this long to try another before the units go back to the line.
DECLINE_GRACE_S = 60


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


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
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    name: Mapped[str] = mapped_column(String(200), default="")

    @property
    def opens_at_epoch(self) -> float:
        """The opening time in epoch seconds (naive values read back from SQLite/MySQL are UTC)."""
        opens = self.opens_at if self.opens_at.tzinfo else self.opens_at.replace(tzinfo=UTC)
        return opens.timestamp()
