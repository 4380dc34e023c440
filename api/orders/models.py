"""The orders service's tables: orders, their lines, and every state change they made."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.orders.states import OrderSource, OrderState
from yakku.extensions import db


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def _enum(cls) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda members: [m.value for m in members])


class Order(db.Model):
    """A shopper's purchase: what was bought at which price, and where its payment stands."""

    __tablename__ = "orders"
    __table_args__ = (CheckConstraint("total >= 0", name="total_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    # Scoped by its source ("shop:<account>:<key>", "sale:<sale>:<ticket>") so two shoppers who
    # happen to pick the same key never meet; unique, so concurrent retries make one order.
    idempotency_key: Mapped[str] = mapped_column(String(250), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[OrderState] = mapped_column(_enum(OrderState), default=OrderState.CREATED, index=True)
    total: Mapped[int] = mapped_column(Integer)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[OrderSource] = mapped_column(_enum(OrderSource), default=OrderSource.SHOP)
    sale_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The catalog reservation holding a shop order's units (None for sale orders: the sale holds them).
    stock_key: Mapped[str | None] = mapped_column(String(250))
    # The idempotency key of the payment attempt in flight or last made.
    payment_key: Mapped[str | None] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.product_id", lazy="selectin", cascade="all, delete-orphan"
    )
    transitions: Mapped[list["OrderTransition"]] = relationship(
        order_by="OrderTransition.id", lazy="selectin", cascade="all, delete-orphan"
    )
    delivery: Mapped["OrderDelivery | None"] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def items(self) -> list[dict]:
        """The ordered units in the catalog's reservation shape."""
        return [{"product_id": line.product_id, "quantity": line.quantity} for line in self.lines]


class OrderLine(db.Model):
    """One product of an order, with the name and unit price the catalog had when it was ordered."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # No foreign key to products: the catalog owns that table, possibly in another database.
    product_id: Mapped[int] = mapped_column(Integer)
    product_name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def subtotal(self) -> int:
        """unit_price × quantity, in minor units."""
        return self.unit_price * self.quantity


class OrderTransition(db.Model):
    """One state change of an order: from where, to where, why and when."""

    __tablename__ = "order_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    from_state: Mapped[OrderState | None] = mapped_column(_enum(OrderState))
    to_state: Mapped[OrderState] = mapped_column(_enum(OrderState))
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SaleAllotment(db.Model):
    """The units a flash sale may sell, as its first batch of orders declared them.

    The database's own bound on a sale, beside Redis's counter: batch._start lets a sale order start
    paying only while the units of the sale's orders paying or paid stay within it, so no loss or
    rollback of the counter (docs/reliability.md, "Redis loses data") can sell a unit twice.

    `committed` is those units, kept in the transaction of every move of one of the sale's orders
    (services.count_commitments), so a batch reads one row instead of summing every order the sale
    has made, which grew with the sale: 76 ms a batch, under SQLite's write lock, at 100,000 orders.
    The orders audit checks it against that sum.
    """

    __tablename__ = "sale_allotments"

    sale_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    units: Mapped[int] = mapped_column(Integer)
    committed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Address:
    """Where a parcel goes and whom the courier calls: the columns every address table has."""

    recipient: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    postal_code: Mapped[str] = mapped_column(String(5))
    address: Mapped[str] = mapped_column(String(200))
    address_detail: Mapped[str] = mapped_column(String(100), default="")


class OrderDelivery(Address, db.Model):
    """Where a shop order goes and whom the courier calls; a sale order may have none."""

    __tablename__ = "order_deliveries"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    # The account again, so "the address you used last time" is one indexed query.
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class DefaultDelivery(Address, db.Model):
    """The address a shopper chose for their next orders (the account page sets it); the checkout
    starts from it rather than from the last order's."""

    __tablename__ = "default_deliveries"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
