"""Redis key templates of the payments area (the sandbox provider's memory of its charges)."""

# One charge the sandbox made, by its reference (derived from the idempotency key): a JSON record.
# The hash tag keeps every sandbox key on one shard of a cluster.
SANDBOX_CHARGE_KEY = "payments:{{sandbox}}:charge:{reference}"

# How long the sandbox remembers a charge (a real provider keeps idempotency keys about a day).
SANDBOX_CHARGE_TTL = 7 * 24 * 3600
