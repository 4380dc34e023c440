"""The cart table: which products each account is about to buy, and how many of each."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yakku.extensions import db

MIN_QUANTITY = 1
MAX_QUANTITY = 99


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class CartItem(db.Model):
    """One product in one account's cart; no foreign keys, since accounts and products live elsewhere."""

    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("account_id", "product_id"),
        CheckConstraint(f"quantity BETWEEN {MIN_QUANTITY} AND {MAX_QUANTITY}", name="quantity_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=MIN_QUANTITY)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
