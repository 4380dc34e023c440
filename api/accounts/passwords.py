"""Password hashing with argon2id at the deployment's cost, and the same cost for unknown e-mail addresses.

`PASSWORD_HASH_PROFILE` (env `YAKKU_PASSWORD_HASH_PROFILE`) picks the cost of new hashes:

- `default`: argon2-cffi's defaults (RFC 9106 low-memory: t=3, 64 MiB, p=4). Every real deployment
  uses it. A login costs one such verification: tens of ms of CPU on a fast idle core, ~250 ms on
  the shared 2-core development box, which caps its api at a handful of logins a second.
- `load-test`: t=1, 1 MiB, p=1, ~1 ms. For load-test deployments ONLY, whose thousands of bulk
  buyers would otherwise spend the whole run logging in. Never in production: it makes a stolen
  hash hundreds of times cheaper to guess.

A hash carries its own parameters, so any hash verifies whatever the profile; a login rehashes at
the profile's cost when they differ (a default deployment upgrades cheaper hashes on login).
"""

from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


class HashProfile(StrEnum):
    """How costly a new password hash is; see the module's docstring."""

    DEFAULT = "default"
    LOAD_TEST = "load-test"


_PARAMETERS = {
    HashProfile.DEFAULT: {},  # argon2-cffi's own defaults, which follow its releases
    HashProfile.LOAD_TEST: {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


@cache
def hasher_for(profile: str) -> PasswordHasher:
    """The hasher of a profile name; ValueError for a name that is not a profile."""
    try:
        return PasswordHasher(**_PARAMETERS[HashProfile(profile)])
    except ValueError:
        names = ", ".join(p.value for p in HashProfile)
        raise ValueError(f"PASSWORD_HASH_PROFILE must be one of {names}, not {profile!r}") from None


def _hasher() -> PasswordHasher:
    return hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    """An argon2id hash of `password` at the current app's profile."""
    return _hasher().hash(password)


@cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("decoy password for accounts that do not exist")


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, spend the profile's time and answer False."""
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _decoy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current app's profile."""
    return _hasher().check_needs_rehash(password_hash)
