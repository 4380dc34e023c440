"""Redis key templates of the payments area (the sandbox provider's memory of its charges)."""

# One charge the sandbox made, by its reference (derived from the idempotency key): a JSON record.
# The hash tag keeps every sandbox key on one shard of a cluster.
SANDBOX_CHARGE_KEY = "payments:{{sandbox}}:charge:{reference}"

# How long the sandbox remembers a charge (a real provider keeps idempotency keys about a day).
SANDBOX_CHARGE_TTL = 7 * 24 * 3600

# A tokenised card, by its token: a JSON record of what the sandbox decides a charge by (the test card's
# outcome class, brand, last 4, expiry, the shopper it was made for), never the number or the CVC.
SANDBOX_METHOD_KEY = "payments:{{sandbox}}:method:{token}"
