"""Every table of the vault, imported so the database knows them all at start-up."""

from . import projection  # noqa: F401
