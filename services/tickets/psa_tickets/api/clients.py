"""/api/v1/clients and /api/v1/contacts: the MSP's customers and their people, within grants."""

from flask.views import MethodView
from marshmallow import fields, validate

from psa_shared.fields import JsonBoolean, QueryBoolean, UtcDateTime
from psa_shared.schemas import Schema
from psa_shared.web import Blueprint, ListArgs, keyset_page, page_schema, principal

from ..database import db
from ..directory import clients
from ..directory.models import Client, Contact
from . import fields as f

blp = Blueprint("clients", __name__, url_prefix="/api/v1/clients", description="The MSP's clients")
contacts_blp = Blueprint("contacts", __name__, url_prefix="/api/v1/contacts", description="Client contacts")


class ClientSchema(Schema):
    id = fields.UUID(dump_only=True)
    number = fields.Integer(dump_only=True)
    name = f.name()
    phone = f.text(50)
    website = f.text(200)
    notes = f.text(10_000)
    active = JsonBoolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ClientQuery(ListArgs):
    q = fields.String(validate=validate.Length(min=1, max=200))
    number = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))  # beyond the column: 422, not 500
    active = QueryBoolean()


class ContactSchema(Schema):
    id = fields.UUID(dump_only=True)
    client_id = fields.UUID(required=True)
    name = f.name()
    email = f.email(allow_none=True)
    phone = f.text(50)
    title = f.text(100)
    active = JsonBoolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class ContactQuery(ListArgs):
    client_id = fields.UUID()
    q = fields.String(validate=validate.Length(min=1, max=200))


@blp.route("")
class Clients(MethodView):
    @blp.arguments(ClientQuery, location="query")
    @blp.response(200, page_schema(ClientSchema))
    def get(self, args):
        """List the clients the caller is granted, newest first."""
        principal().require("client:read")
        query = clients.visible_clients(principal())
        if "q" in args:
            query = query.where(db.contains(Client.name, args["q"]))
        for name in ("number", "active"):
            if name in args:
                query = query.where(getattr(Client, name) == args[name])
        return keyset_page(query, Client, args)

    @blp.arguments(ClientSchema)
    @blp.response(201, ClientSchema)
    def post(self, data):
        principal().require("client:write")
        return clients.create_client(principal(), **data)


@blp.route("/<uuid:client_id>")
class ClientById(MethodView):
    @blp.response(200, ClientSchema)
    def get(self, client_id):
        principal().require("client:read")
        return clients.get_client(principal(), client_id)

    @blp.arguments(ClientSchema(partial=True), required=False)
    @blp.response(200, ClientSchema)
    def patch(self, data, client_id):
        principal().require("client:write")
        return clients.update_client(principal(), client_id, **data)


@contacts_blp.route("")
class Contacts(MethodView):
    @contacts_blp.arguments(ContactQuery, location="query")
    @contacts_blp.response(200, page_schema(ContactSchema))
    def get(self, args):
        principal().require("client:read")
        query = clients.visible_contacts(principal())
        if "client_id" in args:
            query = query.where(Contact.client == args["client_id"])
        if "q" in args:
            query = query.where(db.contains(Contact.name, args["q"]))
        return keyset_page(query, Contact, args)

    @contacts_blp.arguments(ContactSchema)
    @contacts_blp.response(201, ContactSchema)
    def post(self, data):
        principal().require("client:write")
        return clients.create_contact(principal(), **data)


@contacts_blp.route("/<uuid:contact_id>")
class ContactById(MethodView):
    @contacts_blp.response(200, ContactSchema)
    def get(self, contact_id):
        principal().require("client:read")
        return clients.get_contact(principal(), contact_id)

    @contacts_blp.arguments(ContactSchema(partial=True), required=False)
    @contacts_blp.response(200, ContactSchema)
    def patch(self, data, contact_id):
        principal().require("client:write")
        return clients.update_contact(principal(), contact_id, **data)
