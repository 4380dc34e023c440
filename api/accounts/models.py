"""The accounts table, the password-reset links sent for its accounts, and the sign-ins ended."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.auth import Role
from yakku.extensions import db


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class Account(db.Model):
    """A shopper or an operator who can sign in."""

    __tablename__ = "accounts"
    # SQLite otherwise hands a deleted account's id to the next sign-up, and with it everything still
    # keyed by that id (its orders, a token minted before the deletion).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda roles: [r.value for r in roles]),
        default=Role.SHOPPER,
    )
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped whenever a verification link is sent or used: a link carries the value it was made
    # with, so only the newest link works, and only once.
    verification_round: Mapped[int] = mapped_column(Integer, default=0)
    # Raised whenever every session of the account ends (password changed or reset, account deleted):
    # a token carries the value it was issued under, and refresh refuses one below it. Redis holds a
    # copy for the checks of every request; this one survives Redis losing its data.
    sessions_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def verified(self) -> bool:
        """Whether the owner has proved the e-mail address is theirs."""
        return self.verified_at is not None


class PasswordReset(db.Model):
    """One password-reset link sent: the SHA-256 of its token (never the token), until when it works,
    and when it was used (each link works once)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RevokedFamily(db.Model):
    """A sign-in ended (logged out, or its refresh token replayed): every token of its family is refused.

    Kept until the family's last token has expired. No foreign key: a replayed token of a deleted
    account still ends its family, and the row goes at its expiry like any other.
    """

    __tablename__ = "revoked_token_families"

    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
