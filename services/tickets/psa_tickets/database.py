"""The tickets service's own database and the model bases bound to it."""

from psa_shared.db import ServiceDatabase, model_bases
from psa_shared.outbox import Inbox, Outbox

db = ServiceDatabase(
    "tickets",
    retired_indexes=(  # see servicedesk.models: each cost every write its pages
        *(f"ticket_{column}_id" for column in ("client", "contact", "board", "status", "assignee")),
        "ticket_tenant_id_board_id_id",
        "ticket_tenant_id_priority_id",
        "ticket_tenant_id_status_kind_id",
        "ticket_tenant_id_assignee_id_status_kind",
        "ticket_tenant_id_board_id_status_kind",
        "timeentry_ticket_id",
        "timeentry_member_id",
        "ticketchange_ticket_id",
        "ticketchange_actor_id",
    ),
    added_columns=(
        "timeentry.recorded_by_id",
        "pluginsettings.updated_by_id",
        "pluginsettings.switched_off_at",
        "pluginsettings.switched_on_at",
    ),
)
outbox = Outbox(db)
inbox = Inbox(db)
emit = outbox.emit
Model, GlobalModel = model_bases(db)
