"""Account pages: sign up, check your e-mail, verify, log in, log out."""

from storefront.account import views  # noqa: F401  (registers the routes on bp)
from storefront.account.blueprint import bp

__all__ = ["bp"]
