"""Every table of the vault, imported so the database knows them all at start-up."""

from . import audit, history, keys, projection  # noqa: F401
from .attachments import models as attachment_models  # noqa: F401
from .configurations import models as configuration_models  # noqa: F401
from .credentials import models as credential_models  # noqa: F401
