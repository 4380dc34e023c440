"""Ended sessions, recorded in the database so that a Redis which loses its data brings none back.

Every request asks Redis alone whether its token was revoked (api.auth.is_revoked, one MGET). The
database is the record behind it: ending a sign-in writes a revoked_token_families row, ending every
session of an account raises accounts.sessions_generation, and each refresh (every 15 minutes per
shopper) checks both and puts back in Redis what Redis lost. So after a loss a refresh token of an
ended session is still refused, and an access token issued before it works at most until the first
refresh of its account or family puts the key back, or until it expires (docs/security.md).
"""

from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from api.accounts.models import Account, RevokedFamily, utcnow
from api.auth import TokenRevoked, generation_in_redis, raise_generation, revoke_family, token_family
from yakku.extensions import db


def end_family(claims: dict) -> None:
    """End the sign-in the token belongs to (every refresh and access token of its family), in the
    database and then in Redis."""
    _record_family(claims)
    revoke_family(claims)


def _record_family(claims: dict) -> None:
    family = token_family(claims)
    if db.session.get(RevokedFamily, family) is not None:
        return  # ended already (a replay of a token that was logged out)
    now = utcnow()
    # The family's newest refresh token expires at most one lifetime from now: no row is needed after.
    expires_at = now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    db.session.add(
        RevokedFamily(family=family, account_id=int(claims["sub"]), revoked_at=now, expires_at=expires_at)
    )
    try:
        db.session.commit()
    except IntegrityError:  # a racing request (two replays at once) recorded it first
        db.session.rollback()


def end_all_sessions(account_id: int) -> None:
    """End every session the account has (every family, every device): its row's generation goes up,
    then Redis's, so every token issued before stops working."""
    db.session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(sessions_generation=Account.sessions_generation + 1),
        execution_options={"synchronize_session": False},
    )
    generation = db.session.scalar(select(Account.sessions_generation).where(Account.id == account_id))
    db.session.commit()
    if generation is not None:
        raise_generation(account_id, generation)


def generation_for(account: Account) -> int:
    """The session generation the account's new tokens carry: its row's.

    A generation Redis raised before the database counted them (revision 5a80f0a0c240) is adopted by
    the row first: tokens issued under the row's lower one would be refused at once, and the account's
    next end of sessions must go above it. Once every such key has expired (7 days after the upgrade)
    this finds none.
    """
    in_redis = generation_in_redis(account.id)
    if in_redis > account.sessions_generation:
        db.session.execute(
            update(Account)
            .where(Account.id == account.id, Account.sessions_generation < in_redis)
            .values(sessions_generation=in_redis),
            execution_options={"synchronize_session": False},
        )
        db.session.commit()
        db.session.refresh(account)
    return account.sessions_generation


def refuse_if_ended(claims: dict, account: Account, in_redis: int) -> None:
    """Refuse a refresh token whose session the database says has ended, and put back in Redis what the
    database knows and Redis lost (`in_redis`: the generation Redis answered for the token)."""
    if account.sessions_generation > in_redis:
        # Redis lost the generation: the account's access tokens from before its sessions ended work
        # again until the key is back.
        raise_generation(account.id, account.sessions_generation)
    if int(claims.get("gen", 0)) < account.sessions_generation:
        raise TokenRevoked()
    if db.session.get(RevokedFamily, token_family(claims)) is not None:
        revoke_family(claims)  # Redis said the family works: it lost the key
        raise TokenRevoked()


def purge_ended_families(now: datetime | None = None) -> int:
    """Forget the ended sign-ins whose every token has expired; how many. The reconciler's sweep calls it."""
    result = db.session.execute(delete(RevokedFamily).where(RevokedFamily.expires_at < (now or utcnow())))
    db.session.commit()
    return result.rowcount
