"""Project tables: projects, phases, tasks (with estimates and spent minutes), schedule entries."""

import peewee

from psa_shared.outbox import utcnow

from ..database import Model
from ..directory.models import Client, Member
from ..servicedesk.models import Ticket


class Project(Model):
    client = peewee.ForeignKeyField(Client)
    name = peewee.CharField(max_length=200)
    board_id = peewee.UUIDField(null=True)
    closed = peewee.BooleanField(default=False)
    created_at = peewee.DateTimeField(default=utcnow)


class Phase(Model):
    project = peewee.ForeignKeyField(Project, backref="phases")
    name = peewee.CharField(max_length=200)
    position = peewee.IntegerField(default=0)


class Task(Model):
    project = peewee.ForeignKeyField(Project, backref="tasks")
    phase = peewee.ForeignKeyField(Phase, null=True, backref="tasks")
    name = peewee.CharField(max_length=200)
    assignee = peewee.ForeignKeyField(Member, null=True)
    priority = peewee.CharField(max_length=2, default="P3")
    estimate_minutes = peewee.IntegerField(null=True)
    spent_minutes = peewee.IntegerField(default=0)
    done = peewee.BooleanField(default=False)
    due_at = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "assignee", "done"), False), (("tenant_id", "project"), False))


LONGEST_BOOKING_MINUTES = 1440  # a day: longer work is booked day by day


class ScheduleEntry(Model):
    member = peewee.ForeignKeyField(Member)
    starts_at = peewee.DateTimeField()
    minutes = peewee.IntegerField()
    ticket = peewee.ForeignKeyField(Ticket, null=True)
    task = peewee.ForeignKeyField(Task, null=True)
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant_id", "member", "starts_at"), False),)
