"""Every table of the vault, imported so the database knows them all at start-up."""

from . import audit, keys, projection  # noqa: F401
from .credentials import models as credential_models  # noqa: F401
