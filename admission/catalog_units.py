"""The units a sale takes from the catalog when armed, and gives back when it is over.

The catalog releases a reservation whole, never in part. So a sale takes its units in chunks of
1, 2, 4, ..., 2^(k-1) and one remainder r <= 2^k - 1 (k as large as fits): any leftover L between 0 and
the units is then a sum of some of those chunks (L - r or L itself is below 2^k, so binary), and exactly
L units go back by releasing those chunks, while the others are committed as sold.
"""

from admission.exceptions import NotEnoughStock, SaleNotFound
from api.client import catalog
from api.client.errors import ServiceConflict, ServiceNotFound


def chunk_sizes(units: int) -> list[int]:
    """The chunk sizes `units` is taken in: powers of two, then the remainder (if any)."""
    sizes, power = [], 1
    while sum(sizes) + power <= units:
        sizes.append(power)
        power *= 2
    remainder = units - sum(sizes)
    return sizes + ([remainder] if remainder else [])


def chunks_for(units: int, leftover: int) -> list[int]:
    """Indexes of the chunks of `units` that add up to exactly `leftover`."""
    sizes = chunk_sizes(units)
    if not 0 <= leftover <= units:
        raise ValueError("leftover must be between 0 and the units")
    powers = len(sizes) if sum(sizes) == 2 ** len(sizes) - 1 else len(sizes) - 1
    chosen, rest = [], leftover
    if rest > 2**powers - 1:  # needs the remainder chunk; what is left then fits the powers
        chosen.append(len(sizes) - 1)
        rest -= sizes[-1]
    chosen += [i for i in range(powers) if rest >> i & 1]
    return sorted(chosen)


def chunk_key(sale_id: int, index: int) -> str:
    """The catalog reservation key of one chunk."""
    return f"sale:{sale_id}:chunk:{index}"


def take(sale_id: int, product_id: int, units: int) -> None:
    """Take `units` of the product out of catalog stock for the sale, all or none (idempotent per chunk)."""
    client = catalog()
    taken = []
    try:
        for index, size in enumerate(chunk_sizes(units)):
            items = [{"product_id": product_id, "quantity": size}]
            client.reserve_stock(json={"key": chunk_key(sale_id, index), "items": items})
            taken.append(index)
    except ServiceConflict as error:
        for index in taken:
            client.release_stock(chunk_key(sale_id, index))
        raise NotEnoughStock(fields={"units": error.message}) from None
    except ServiceNotFound:
        for index in taken:
            client.release_stock(chunk_key(sale_id, index))
        raise SaleNotFound("The sale's product does not exist.", fields={"product_id": product_id}) from None


def give_back(sale_id: int, units: int, leftover: int) -> None:
    """Return exactly `leftover` units to the catalog and commit the rest as sold (idempotent)."""
    client = catalog()
    back = set(chunks_for(units, leftover))
    for index in range(len(chunk_sizes(units))):
        if index in back:
            client.release_stock(chunk_key(sale_id, index))
        else:
            client.commit_stock(chunk_key(sale_id, index))
