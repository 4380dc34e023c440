"""Account pages: sign up, verify, log in and out, a forgotten password, and the account page."""

from storefront.account import profile, recovery, views  # noqa: F401  (they register the routes on bp)
from storefront.account.blueprint import bp

__all__ = ["bp"]
