"""A draw anyone can check (docs/draw.md): the pre-queue's order at opening, from a seed committed at arming.

At arming a random seed is kept in the sale's Redis settings, read only by the platform, and its SHA-256
is published. At opening the pre-queue is sorted by SHA-256(seed ":" entry), where a shopper's entry is
SHA-256(salt ":" shopper id), and open.lua places it in that order once; then the seed and the entries, in
draw order, are published. Anyone can hash the seed, sort the entries again and compare.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass

from admission.exceptions import DrawBusy, SaleNotFound
from admission.keys import sale_keys
from admission.models import Sale, SaleDraw, utcnow
from admission.replies import LifecycleOutcome
from admission.scripts import scripts
from yakku.extensions import db, get_sales_redis

log = logging.getLogger(__name__)

SEED_BYTES = 32
# Each stale answer means someone joined between the snapshot and the script: only they are hashed again,
# so a retry takes a round trip; this many in a row means joins outrun it (the admitter tries next tick).
OPEN_ATTEMPTS = 50


def sha256(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, in lower-case hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def entry_of(salt: str, shopper_id: int | str) -> str:
    """A shopper's published entry: SHA-256(salt ":" id), which they can recompute to find themselves."""
    return sha256(f"{salt}:{shopper_id}")


def draw_key(seed: str, entry: str) -> str:
    """What the draw sorts an entry by: SHA-256(seed ":" entry), unknowable before the seed is published."""
    return sha256(f"{seed}:{entry}")


def draw_order(seed: str, entries: list[str]) -> list[str]:
    """The entries in draw order: by their draw key, smallest first."""
    return sorted(entries, key=lambda entry: (draw_key(seed, entry), entry))


def arm_settings() -> dict[str, str]:
    """A fresh draw's fields for the sale's Redis settings: the secret seed, the salt, the commitment."""
    seed = secrets.token_hex(SEED_BYTES)
    return {"draw_seed": seed, "draw_salt": secrets.token_hex(16), "draw_commitment": sha256(seed)}


def open_with_draw(sale_id: int, now: float) -> bool:
    """Open an armed sale in Redis, its pre-queue placed in draw order once; False if it was open already."""
    client, keys = get_sales_redis(), sale_keys(sale_id)
    seed, salt = _secret(sale_id)
    shoppers: dict[str, str] = {}  # entry -> shopper
    for _ in range(OPEN_ATTEMPTS):
        for shopper in client.smembers(keys.prequeue):
            shoppers.setdefault(entry_of(salt, shopper), shopper)
        args: list = [now]
        for entry in draw_order(seed, list(shoppers)):
            args += [shoppers[entry], entry]
        answer = scripts().open(sale_id, args)
        if answer.outcome != LifecycleOutcome.STALE:
            return answer.outcome == LifecycleOutcome.OPENED
    log.warning("sale %s: the pre-queue kept growing during %s draws", sale_id, OPEN_ATTEMPTS)
    raise DrawBusy()


def _secret(sale_id: int) -> tuple[str, str]:
    # A sale armed before draws were committed has none: it gets one now, published only at opening.
    settings = sale_keys(sale_id).settings
    client = get_sales_redis()
    seed, salt = client.hmget(settings, "draw_seed", "draw_salt")
    if seed and salt:
        return seed, salt
    for field, value in arm_settings().items():
        client.hsetnx(settings, field, value)
    return tuple(client.hmget(settings, "draw_seed", "draw_salt"))


def record_commitment(sale_id: int) -> None:
    """Keep the armed sale's commitment and salt in the database: published from now on."""
    commitment, salt = get_sales_redis().hmget(sale_keys(sale_id).settings, "draw_commitment", "draw_salt")
    if commitment and db.session.get(SaleDraw, sale_id) is None:
        db.session.add(SaleDraw(sale_id=sale_id, commitment=commitment, salt=salt))
        db.session.commit()


def record_draw(sale_id: int) -> None:
    """Keep the opened sale's seed and entries in the database, once: they outlive the sale's Redis keys."""
    row = db.session.get(SaleDraw, sale_id)
    if row is not None and row.seed:
        return
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hmget(keys.settings, "draw_seed", "draw_salt", "draw_commitment", "drawn").lrange(keys.draw, 0, -1)
    (seed, salt, commitment, drawn), entries = pipe.execute()
    if not (seed and drawn is not None):
        return  # not opened with a draw (or its keys are gone): nothing to publish
    if row is None:
        row = SaleDraw(sale_id=sale_id, commitment=commitment, salt=salt)
        db.session.add(row)
    row.seed, row.entries, row.drawn_at = seed, entries, utcnow()
    db.session.commit()


def published(sale_id: int) -> dict:
    """The sale's draw as published: the commitment and salt once armed, the seed and entries once open."""
    if db.session.get(Sale, sale_id) is None:
        raise SaleNotFound()
    row = db.session.get(SaleDraw, sale_id)
    if row is None:
        return {"sale_id": sale_id, "commitment": None, "salt": None, "seed": None, "entries": None}
    return {
        "sale_id": sale_id,
        "commitment": row.commitment,
        "salt": row.salt,
        "seed": row.seed,
        "entries": row.entries,
        "committed_at": row.committed_at,
        "drawn_at": row.drawn_at,
    }


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def verify(draw: dict) -> list[Check]:
    """Recompute the draw from what was published: the seed against its commitment, the order from it."""
    seed, entries = draw.get("seed"), draw.get("entries")
    if not seed or entries is None:
        return [Check("published", False, "the seed and entries are published once the sale opens")]
    recomputed = draw_order(seed, list(entries))
    moved = sum(
        1 for published_entry, ours in zip(entries, recomputed, strict=True) if published_entry != ours
    )
    return [
        Check("commitment", sha256(seed) == draw.get("commitment"), "SHA-256 of the seed = the commitment"),
        Check("distinct", len(set(entries)) == len(entries), f"{len(entries)} entries, each once"),
        Check("order", moved == 0, f"{moved} of {len(entries)} entries out of the recomputed order"),
    ]


def queue_check(sale_id: int, draw: dict) -> Check | None:
    """Whether the order Redis placed the pre-queue in is the published one (None once its keys are gone)."""
    placed = get_sales_redis().lrange(sale_keys(sale_id).draw, 0, -1)
    if not placed:
        return None
    same = placed == list(draw.get("entries") or [])
    return Check("queue", same, "the queue was placed in the published order")


def verify_sale(sale_id: int) -> list[Check]:
    """A sale's published draw recomputed, and compared with the order Redis placed (while it holds it)."""
    published_draw = published(sale_id)
    queue = queue_check(sale_id, published_draw) if published_draw["seed"] else None
    return verify(published_draw) + ([queue] if queue else [])


@dataclass(frozen=True)
class ShopperEntry:
    """A shopper's own line of the draw: their entry, and their place once drawn."""

    entry: str
    commitment: str
    place: int | None = None
    total: int | None = None
    drawn: bool = False


def shopper_entry(sale_id: int, shopper_id: int) -> ShopperEntry | None:
    """The shopper's entry and (after opening) place in the draw; None for a sale without a draw."""
    keys = sale_keys(sale_id)
    pipe = get_sales_redis().pipeline(transaction=False)
    pipe.hmget(keys.settings, "draw_salt", "draw_commitment", "drawn").hget(keys.draw_places, shopper_id)
    (salt, commitment, drawn), place = pipe.execute()
    if not salt:
        return None
    return ShopperEntry(
        entry_of(salt, shopper_id),
        commitment,
        int(place) if place else None,
        int(drawn) if drawn is not None else None,
        drawn is not None,
    )
