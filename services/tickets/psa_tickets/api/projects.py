"""/api/v1/projects and /api/v1/tasks: projects of a client, their phases and tasks, time on tasks."""

from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import JsonBoolean, QueryBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from ..projects import projects, task_time
from ..projects.models import Phase, Project, Task
from ..servicedesk.models import PRIORITIES, TimeEntry
from . import fields as f
from .ticket_time import TimeEntrySchema

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects", description="Client projects")
tasks_blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Project tasks")


def minutes(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000), **kwargs)


class ProjectSchema(Schema):
    id = fields.UUID(dump_only=True)
    client_id = fields.UUID(required=True)
    name = f.name()
    board_id = fields.UUID(allow_none=True)
    closed = JsonBoolean()
    created_at = UtcDateTime(dump_only=True)


class ProjectQuery(ListArgs):
    client_id = fields.UUID()
    closed = QueryBoolean()


class PhaseSchema(Schema):
    id = fields.UUID(dump_only=True)
    project_id = fields.UUID(dump_only=True)
    name = f.name()
    position = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000))


class TaskSchema(Schema):
    id = fields.UUID(dump_only=True)
    project_id = fields.UUID(dump_only=True)
    phase_id = fields.UUID(allow_none=True)
    name = f.name()
    assignee_id = fields.UUID(allow_none=True)
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    estimate_minutes = minutes(allow_none=True)
    spent_minutes = fields.Integer(dump_only=True)
    done = JsonBoolean()
    due_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime(dump_only=True)


class TaskQuery(ListArgs):
    phase_id = fields.UUID()
    done = QueryBoolean()


class TaskTimeEntrySchema(TimeEntrySchema):
    task_id = fields.UUID(dump_only=True)


@blp.route("")
class Projects(MethodView):
    @blp.arguments(ProjectQuery, location="query")
    @blp.response(200, page_schema(ProjectSchema))
    def get(self, args):
        """Projects of the clients the caller sees, newest first."""
        principal().require("ticket:read")
        query = projects.visible_projects(principal())
        if "client_id" in args:
            query = query.where(Project.client == args["client_id"])
        if "closed" in args:
            query = query.where(Project.closed == args["closed"])
        return keyset_page(query, Project, args)

    @blp.arguments(ProjectSchema)
    @blp.response(201, ProjectSchema)
    def post(self, data):
        principal().require("ticket:write")
        return projects.create_project(principal(), **data)


@blp.route("/<uuid:project_id>")
class ProjectById(MethodView):
    @blp.response(200, ProjectSchema)
    def get(self, project_id):
        principal().require("ticket:read")
        return projects.get_project(principal(), project_id)

    @blp.arguments(ProjectSchema(partial=True), required=False)
    @blp.response(200, ProjectSchema)
    def patch(self, data, project_id):
        principal().require("ticket:write")
        return projects.update_project(principal(), project_id, **data)


@blp.route("/<uuid:project_id>/phases")
class Phases(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, page_schema(PhaseSchema))
    def get(self, args, project_id):
        principal().require("ticket:read")
        project = projects.get_project(principal(), project_id)
        return keyset_page(Phase.select().where(Phase.project == project.id), Phase, args)

    @blp.arguments(PhaseSchema)
    @blp.response(201, PhaseSchema)
    def post(self, data, project_id):
        principal().require("ticket:write")
        return projects.create_phase(principal(), project_id, **data)


@blp.route("/<uuid:project_id>/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskQuery, location="query")
    @blp.response(200, page_schema(TaskSchema))
    def get(self, args, project_id):
        principal().require("ticket:read")
        project = projects.get_project(principal(), project_id)
        query = Task.select().where(Task.project == project.id)
        if "phase_id" in args:
            query = query.where(Task.phase == args["phase_id"])
        if "done" in args:
            query = query.where(Task.done == args["done"])
        return keyset_page(query, Task, args)

    @blp.arguments(TaskSchema)
    @blp.response(201, TaskSchema)
    def post(self, data, project_id):
        principal().require("ticket:write")
        return projects.create_task(principal(), project_id, **data)


@tasks_blp.route("/<uuid:task_id>")
class TaskById(MethodView):
    @tasks_blp.response(200, TaskSchema)
    def get(self, task_id):
        principal().require("ticket:read")
        return projects.get_task(principal(), task_id)[0]

    @tasks_blp.arguments(TaskSchema(partial=True), required=False)
    @tasks_blp.response(200, TaskSchema)
    def patch(self, data, task_id):
        principal().require("ticket:write")
        return projects.update_task(principal(), task_id, **data)


@tasks_blp.route("/<uuid:task_id>/time-entries")
class TaskTimeEntries(MethodView):
    @tasks_blp.arguments(ListArgs, location="query")
    @tasks_blp.response(200, page_schema(TaskTimeEntrySchema))
    def get(self, args, task_id):
        principal().require("ticket:read")
        return keyset_page(task_time.task_entries(principal(), task_id), TimeEntry, args)

    @tasks_blp.arguments(TaskTimeEntrySchema)
    @tasks_blp.response(201, TaskTimeEntrySchema)
    def post(self, data, task_id):
        """Log work on the task (409 while its project is closed; a done task still takes time)."""
        principal().require("time:write")
        return task_time.log_task_time(principal(), task_id, **data)


@tasks_blp.route("/<uuid:task_id>/time-entries/<uuid:entry_id>")
class TaskTimeEntryById(MethodView):
    @tasks_blp.response(200, TaskTimeEntrySchema)
    def get(self, task_id, entry_id):
        principal().require("ticket:read")
        return task_time.task_entry(principal(), task_id, entry_id)

    @tasks_blp.arguments(TaskTimeEntrySchema(partial=True), required=False)
    @tasks_blp.response(200, TaskTimeEntrySchema)
    def patch(self, data, task_id, entry_id):
        """Edit an unbilled entry; the task's spent minutes follow (409 once invoiced)."""
        principal().require("time:write")
        return task_time.edit_task_entry(principal(), task_id, entry_id, **data)

    @tasks_blp.response(204)
    def delete(self, task_id, entry_id):
        principal().require("time:write")
        task_time.delete_task_entry(principal(), task_id, entry_id)
