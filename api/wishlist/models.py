"""The wishlist table: which products each account keeps for later, and how many."""

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yakku.extensions import db

MIN_QUANTITY = 1
MAX_QUANTITY = 99


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class WishlistItem(db.Model):
    """One product on one account's wishlist.

    account_id and product_id carry no foreign keys: accounts and products belong to other
    services, which may live in other databases.
    """

    __tablename__ = "wishlist_items"
    __table_args__ = (
        UniqueConstraint("account_id", "product_id"),
        CheckConstraint(f"quantity BETWEEN {MIN_QUANTITY} AND {MAX_QUANTITY}", name="quantity_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=MIN_QUANTITY)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
