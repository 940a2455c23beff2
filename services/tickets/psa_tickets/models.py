"""Every table of the tickets service, imported so the database knows them all at start-up."""

from .directory import models as directory  # noqa: F401
from .plugin_settings import models as plugin_settings  # noqa: F401
from .projects import models as projects  # noqa: F401
from .servicedesk import models as servicedesk  # noqa: F401
