"""The payments service's tables: payments and every state change they made."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.payments.states import PaymentState
from yakku.extensions import db


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def _states() -> Enum:
    return Enum(
        PaymentState, native_enum=False, length=20, values_callable=lambda states: [s.value for s in states]
    )


class Payment(db.Model):
    """One charge of an order's amount through a provider. The card itself is never stored."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key to orders: the orders service owns that table, possibly in another database.
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(250), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)  # minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[PaymentState] = mapped_column(_states(), default=PaymentState.PENDING, index=True)
    provider: Mapped[str] = mapped_column(String(30))
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    card_last4: Mapped[str] = mapped_column(String(4))
    decline_code: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    transitions: Mapped[list["PaymentTransition"]] = relationship(
        order_by="PaymentTransition.id", lazy="selectin", cascade="all, delete-orphan"
    )


class PaymentTransition(db.Model):
    """One state change of a payment: from where, to where, why and when."""

    __tablename__ = "payment_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    from_state: Mapped[PaymentState | None] = mapped_column(_states())
    to_state: Mapped[PaymentState] = mapped_column(_states())
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
