"""The vault's own database (never shared with another service) and its model bases."""

from psa_shared.db import ServiceDatabase, model_bases
from psa_shared.outbox import Inbox, Outbox

db = ServiceDatabase("docs_vault")
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit
Model, GlobalModel = model_bases(db)
