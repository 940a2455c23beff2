"""The tickets service's own database and the model bases bound to it."""

from psa_shared.db import ServiceDatabase, model_bases
from psa_shared.outbox import Inbox, Outbox

db = ServiceDatabase("tickets")
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit
Model, GlobalModel = model_bases(db)
