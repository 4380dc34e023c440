"""The catalog's tables: products, and the stock reservations that hold their units."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yakku.extensions import db

DEFAULT_CURRENCY = "KRW"


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class ReservationState(StrEnum):
    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"


class Product(db.Model):
    """Something the shop sells; deleting one only hides it, so old orders keep their product."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(Integer)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY)
    image_url: Mapped[str | None] = mapped_column(String(500))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def in_stock(self) -> bool:
        """Whether at least one unit can be bought."""
        return self.stock > 0


class StockReservation(db.Model):
    """Units taken out of stock for one caller's key (an order, a ticket), until released."""

    __tablename__ = "stock_reservations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[ReservationState] = mapped_column(
        Enum(
            ReservationState,
            native_enum=False,
            length=20,
            values_callable=lambda states: [s.value for s in states],
        ),
        default=ReservationState.HELD,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    lines: Mapped[list["StockReservationLine"]] = relationship(
        back_populates="reservation", order_by="StockReservationLine.product_id", lazy="selectin"
    )

    @property
    def items(self) -> list[dict]:
        """The reserved units, one entry per product, in product order."""
        return [{"product_id": line.product_id, "quantity": line.quantity} for line in self.lines]


class StockReservationLine(db.Model):
    """How many units of one product a reservation holds."""

    __tablename__ = "stock_reservation_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("stock_reservations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    reservation: Mapped[StockReservation] = relationship(back_populates="lines")
