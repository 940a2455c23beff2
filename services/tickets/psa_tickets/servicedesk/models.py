"""Service-desk tables. Spent minutes are kept on the ticket on every time-entry write, so the
backlog report never scans time entries."""

import peewee

from psa_shared.outbox import utcnow

from ..database import Model
from ..directory.models import Client, Contact, Member

STATUS_KINDS = ("open", "waiting", "closed")  # open, waiting on client, closed
OPEN_KINDS = tuple(kind for kind in STATUS_KINDS if kind != "closed")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
BILLING_OPTIONS = ("billable", "no_charge", "non_billable")
OUTCOMES = ("reached", "no_response")


class Board(Model):
    name = peewee.CharField(max_length=100)
    is_default = peewee.BooleanField(default=False)
    # Auto-close policy: after N consecutive unanswered attempts and/or D business days waiting.
    autoclose_attempts = peewee.IntegerField(null=True)
    autoclose_business_days = peewee.IntegerField(null=True)
    autoclose_note = peewee.TextField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "name"), True),)


class Status(Model):
    board = peewee.ForeignKeyField(Board, backref="statuses")
    name = peewee.CharField(max_length=60)
    kind = peewee.CharField(max_length=10)  # one of STATUS_KINDS
    position = peewee.IntegerField(default=0)
    is_default = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("tenant_id", "board", "name"), True),)


class SlaTarget(Model):
    """How fast a board promises to respond to and resolve a ticket of one priority (business minutes)."""

    board = peewee.ForeignKeyField(Board, backref="sla_targets", on_delete="CASCADE")
    priority = peewee.CharField(max_length=2)
    respond_minutes = peewee.IntegerField()
    resolve_minutes = peewee.IntegerField()

    class Meta:
        indexes = ((("tenant_id", "board", "priority"), True),)


# The busiest tables' foreign keys get no index of their own (`index=False`): every query
# leads with tenant_id and uses the indexes below, the parents (clients, contacts, members,
# boards, statuses, tickets) are never deleted, and each index is pages written by every INSERT
# (a ticket's commit cost 0.9 ms with sixteen of them).


class Ticket(Model):
    number = peewee.IntegerField()
    client = peewee.ForeignKeyField(Client, index=False)
    contact = peewee.ForeignKeyField(Contact, null=True, index=False)
    board = peewee.ForeignKeyField(Board, index=False)
    status = peewee.ForeignKeyField(Status, index=False)
    status_kind = peewee.CharField(max_length=10, default="open")  # denormalised for fast filters
    priority = peewee.CharField(max_length=2, default="P3")
    summary = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    assignee = peewee.ForeignKeyField(Member, null=True, index=False)
    estimate_minutes = peewee.IntegerField(null=True)
    spent_minutes = peewee.IntegerField(default=0)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    closed_at = peewee.DateTimeField(null=True)
    waiting_since = peewee.DateTimeField(null=True)  # entered a waiting-on-client status
    responded_at = peewee.DateTimeField(null=True)  # first client-visible action by a member
    respond_due_at = peewee.DateTimeField(null=True)
    resolve_due_at = peewee.DateTimeField(null=True)
    sla_paused_minutes = peewee.IntegerField(default=0)  # business minutes spent waiting on the client

    class Meta:
        indexes = (
            (("tenant_id", "number"), True),
            # The list pages newest first by id. A selective filter (client, assignee) gets an index
            # ending in id, so no sort; a broad one (board, priority, status kind: a fifth of the
            # rows or more) finds its page walking (tenant_id, id) backwards.
            (("tenant_id", "id"), False),
            (("tenant_id", "assignee", "id"), False),
            (("tenant_id", "client", "id"), False),
            # Covers the backlog report (its sums read this index only, never the ticket rows), and
            # serves the work queue's and auto-close's open or waiting tickets of a member or board.
            (("tenant_id", "status_kind", "assignee", "board", "estimate_minutes", "spent_minutes"), False),
        )


class TicketConfiguration(Model):
    """A configuration (owned by the vault) a ticket concerns; checked against ConfigurationRef."""

    ticket = peewee.ForeignKeyField(Ticket, backref="configurations", on_delete="CASCADE")
    configuration_id = peewee.UUIDField()

    class Meta:
        indexes = ((("tenant_id", "ticket", "configuration_id"), True),)


class ConfigurationRef(Model):
    """Read model of the vault's configurations, fed by `configuration.*` events (id = theirs)."""

    client_id = peewee.UUIDField()
    name = peewee.CharField(max_length=200)
    deleted = peewee.BooleanField(default=False)
    updated_at = peewee.DateTimeField(default=utcnow)


class TimeEntry(Model):
    """A touch on a ticket or a project task; zero minutes allowed (the voicemail call)."""

    ticket = peewee.ForeignKeyField(Ticket, null=True, backref="time_entries", index=False)
    task_id = peewee.UUIDField(null=True)  # projects.models.Task, when logged against a task
    client_id = peewee.UUIDField(null=True)  # the ticket's or the task's client, for events on any entry
    member = peewee.ForeignKeyField(Member, index=False)  # whose work it is
    # the member who logged it (the work may be another's); null: logged before 2026-11-27
    recorded_by_id = peewee.UUIDField(null=True)
    started_at = peewee.DateTimeField()
    minutes = peewee.IntegerField()
    billing = peewee.CharField(max_length=12, default="billable")
    notes = peewee.TextField(null=True)  # shown to the client and on the invoice
    internal_notes = peewee.TextField(null=True)  # never shown outside the MSP
    work_type = peewee.CharField(max_length=60, null=True)
    outcome = peewee.CharField(max_length=12, null=True)  # contact attempts: reached | no_response
    billed_invoice_id = peewee.UUIDField(null=True)  # set on invoice.posted; then immutable
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("tenant_id", "ticket", "started_at"), False),
            (("tenant_id", "member", "started_at"), False),
            (("tenant_id", "task_id", "started_at"), False),  # a task's entries
            (("tenant_id", "started_at"), False),  # a week's logged time (availability)
        )


class Note(Model):
    ticket = peewee.ForeignKeyField(Ticket, backref="notes")
    author = peewee.ForeignKeyField(Member, null=True)  # null: written by the system (auto-close)
    text = peewee.TextField()
    internal = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "ticket", "created_at"), False),)


class TicketChange(Model):
    """One line of the trail that no other table records: status, priority, assignment, estimate."""

    ticket = peewee.ForeignKeyField(Ticket, backref="changes", index=False)
    actor = peewee.ForeignKeyField(Member, null=True, index=False)
    kind = peewee.CharField(max_length=30)  # created, status, priority, assignee, estimate, ...
    old_value = peewee.CharField(max_length=200, null=True)
    new_value = peewee.CharField(max_length=200, null=True)
    text = peewee.TextField(null=True)
    client_visible = peewee.BooleanField(default=True)
    at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "ticket", "at"), False),)
