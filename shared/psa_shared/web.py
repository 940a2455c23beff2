"""Web app factory pieces every service uses: flask-smorest Api, auth hook, health, pagination."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect
import json
import re
import time
import uuid
from collections.abc import Callable

import flask_smorest
import marshmallow as ma
import orjson
import prometheus_client
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from flask import Flask, Request, current_app, g, has_request_context, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from marshmallow import fields, validate
from peewee import Tuple
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from . import tenancy
from .auth import KeyRing, Principal, principal_from_claims
from .db import ServiceDatabase
from .errors import PROBLEM_JSON, InvalidInput, Unauthorized, field_error, register_error_handlers

REQUESTS = prometheus_client.Counter("psa_http_requests_total", "HTTP requests", ["service", "method", "status"])
LATENCY = prometheus_client.Histogram("psa_http_request_seconds", "HTTP request latency", ["service"])


def schema_name(schema) -> str:
    """OpenAPI component names: `MemberSchema` -> `Member`, a partial instance -> `MemberPatch`;
    a partial `TicketPatch` stays `TicketPatch` (it was `TicketPatchPatch` until 2026-11-28)."""
    name = resolver(schema)
    partial = isinstance(schema, ma.Schema) and schema.partial and not name.endswith("Patch")
    return name + "Patch" if partial else name


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error is sent (`psa_shared.errors`)."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()), metadata={"description": "field -> messages"}
    )


class ServiceApi(Api):
    ERROR_SCHEMA = ProblemSchema


class ProblemResponses(BasePlugin):
    """flask-smorest documents its error responses as application/json; ours leave as
    application/problem+json, so the OpenAPI says that instead."""

    def response_helper(self, response, **kwargs):
        content = response.get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema == {"$ref": "#/components/schemas/Problem"}:
            content[PROBLEM_JSON] = content.pop("application/json")
        return response


NUL_REFUSED = "must not contain a NUL character"
REPEAT_REFUSED = "give this parameter once"
UNKNOWN_PARAMETER = "Unknown field."  # marshmallow's words, as for an unknown body field
SURROGATE_REFUSED = "must not contain a lone surrogate (a \\uD800-\\uDFFF escape outside a pair)"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # pairs too: the document decides


class StrictParser(FlaskParser):
    """webargs' parser, stricter where the plain one let a request through to a 500 or past unread:

    - a NUL character in any JSON string or query value, and a lone surrogate escape in a JSON
      string, are 422 naming the field: PostgreSQL's text cannot hold a NUL (the write answered
      500) and what SQLite stored would not move to PostgreSQL; a lone surrogate is no character,
      and neither database took it (500 until 2026-11-27);
    - JSON past what the json module reads (nesting deeper than the stack, an integer over 4,300
      digits) is a 400 as malformed JSON is, not a 500;
    - a body sent as another media type (curl's `-d` sends form encoding) is 415: read as no body,
      a PATCH answered 200 and changed nothing;
    - a query parameter the route reads as one value, given twice (`?limit=1&limit=2`), is 422
      naming it: webargs read the first and dropped the rest (until 2026-11-27);
    - a query parameter the route does not read (`?status=New` for `?status_id=`, `?foo=bar`) is
      422 naming it, as an unknown body field is: ignored, a misspelt filter answered the whole
      unfiltered list with 200 (until 2026-11-27). A route taking none refuses any (`Blueprint`)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
    }

    def _raw_load_json(self, req):
        if not is_json_request(req) and req.get_data(cache=True):
            raise UnsupportedMediaType(f"send the body as application/json (it came as {req.mimetype or 'untyped'})")
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own 400, or no body at all
        except (RecursionError, ValueError) as error:
            self._handle_invalid_json_error(error, req)
        raw = req.get_data(cache=True)
        if b"\\u0000" in raw or _SURROGATE_ESCAPE.search(raw):  # JSON can carry either only escaped
            refused = refused_string(data)
            if refused is not None:
                raise ma.ValidationError({refused[0]: [refused[1]]})
        return data

    def load_querystring(self, req, schema):
        args = super().load_querystring(req, schema)
        for name, values in req.args.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ma.ValidationError({name.replace("\x00", ""): [NUL_REFUSED]})
            if len(values) > 1 and name not in args.multiple_keys and name in _read_keys(schema):
                raise ma.ValidationError({name: [REPEAT_REFUSED]})
        return args


def _read_keys(schema: ma.Schema) -> set[str]:
    """The parameter names a schema loads (a field's `data_key`, as `from` for `first`)."""
    return {field.data_key or name for name, field in schema.load_fields.items()}


def _unstorable(text: str) -> str | None:
    """Why no database stores this string, or None."""
    if "\x00" in text:
        return NUL_REFUSED
    try:
        text.encode()
    except UnicodeEncodeError:  # only a lone surrogate has no UTF-8
        return SURROGATE_REFUSED
    return None


def refused_string(document) -> tuple[str, str] | None:
    """Where in a JSON document the first string or key no database stores is (keys and list
    positions joined by dots, `body` for the document itself), and why. Walked without recursion:
    the document may be nested as deep as the json module's own limit."""
    stack = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if (reason := _unstorable(value)) is not None:
                return ".".join(path) or "body", reason
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        children = []
        for key, item in items:
            if isinstance(key, str) and (reason := _unstorable(key)) is not None:
                return ".".join(path) or "body", reason
            children.append((item, (*path, str(key))))
        stack.extend(reversed(children))
    return None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with argument schemas built once (given a schema class, webargs
    builds an instance, deep-copying every field, on each request), parsed by `StrictParser`; a
    route that reads no query string refuses one (`?foo=1` on it would pass no parser)."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(_refuse_query_no_one_reads)

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


def _refuse_query_no_one_reads() -> None:
    if not request.args or _reads_query(current_app.view_functions.get(request.endpoint)):
        return
    name = next(iter(request.args)).replace("\x00", "")  # as `StrictParser` names it
    raise field_error(name, UNKNOWN_PARAMETER)


def _reads_query(view) -> bool:
    """Whether the view (the method the request calls, on a MethodView) declares query arguments."""
    if view is None or request.method == "OPTIONS":
        return True  # not ours to judge: no route, or Flask's own OPTIONS answer, which reads nothing
    if hasattr(view, "view_class"):
        method = request.method.lower()
        view = getattr(view.view_class, "get" if method == "head" else method, None)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(parameter["in"] == "query" for parameter in parameters)


class _BodyWithin(LimitedStream):
    """A body sent without Content-Length (chunked), read up to `most` bytes: one byte more is a
    413. Werkzeug's own stream stops at the limit without a word, so until 2026-11-28 a chunked
    JSON body past 1 MiB was read cut short and answered 400 "Invalid JSON body"."""

    def __init__(self, stream, most: int):
        super().__init__(stream, most + 1, is_max=True)

    def readinto(self, b) -> int | None:
        read = super().readinto(b)
        if self.is_exhausted:
            raise RequestEntityTooLarge()
        return read


class ServiceRequest(Request):
    @cached_property
    def stream(self):
        """A chunked body held to `max_content_length` as one with a Content-Length is (a route
        that raises its own limit does so before it reads)."""
        most = self.max_content_length
        if self.content_length is None and most is not None and self.environ.get("wsgi.input_terminated"):
            return _BodyWithin(self.environ["wsgi.input"], most)
        return super().stream


class ServiceFlask(Flask):
    """Flask asks `inspect` whether each hook and the view is a coroutine function on every
    request (ten times a request here); for a given function the answer never changes."""

    request_class = ServiceRequest

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._coroutine_functions: dict[Callable, bool] = {}

    def ensure_sync(self, func):
        function = getattr(func, "__func__", func)  # a view's bound method is new each request
        known = self._coroutine_functions.get(function)
        if known is None:
            known = self._coroutine_functions[function] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if known else func


def public(view):
    """Mark a view as reachable without a token (health checks, login, JWKS)."""
    view._psa_public = True
    return view


def principal() -> Principal:
    return g.principal


def client_address() -> str | None:
    """The peer's address or, when the peer is a proxy listed in `PSA_TRUSTED_PROXIES`, the
    rightmost `X-Forwarded-For` hop no listed proxy added: hops left of it are the client's say.
    Every header line is read, in case a proxy adds its own line rather than appending. As sent,
    unchecked (the caller decides what a malformed one means); None outside a request."""
    if not has_request_context():
        return None
    peer = request.remote_addr
    settings = current_app.extensions.get("psa_settings")
    trusted = set(settings.trusted_proxies) if settings else set()
    if peer not in trusted:
        return peer
    hops = [hop.strip() for line in request.headers.getlist("X-Forwarded-For") for hop in line.split(",")]
    return next((hop for hop in reversed(hops) if hop and hop not in trusted), peer)


# Every request body, JSON above all: the largest a route takes, a member's 10,000 grants, is 0.4 MiB.
# A route that takes files sets its own (`request.max_content_length`), as the vault's attachments do.
MAX_BODY_BYTES = 1024 * 1024


def create_service_app(
    service: str,
    *,
    db: ServiceDatabase,
    keyring: KeyRing,
    lookup: Callable,
    blueprints: list,
    plugins=None,
    plugin_enabled: Callable[[uuid.UUID, str], bool] | None = None,
    version: str = "1",
) -> Flask:
    """A service's Flask app: OpenAPI at `/openapi/<service>.json`, problem+json errors,
    a connection per request and every non-public route authenticated and tenant-scoped.

    With a plugin manager, plugins' blueprints are mounted under `/api/v1/plugins/<name>/`, and
    those that are flask-smorest Blueprints are documented in the OpenAPI document too. With
    `plugin_enabled(tenant_id, plugin)`, a plugin's authenticated views answer 404 to a tenant
    for which it is False (a public view has no tenant: the plugin checks its own caller)."""
    app = ServiceFlask(f"psa_{service}")
    app.json = JsonProvider(app)
    app.config.update(
        API_TITLE=f"PSA Core {service}",
        API_VERSION=version,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/openapi",
        OPENAPI_JSON_PATH=f"{service}.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.extensions["psa_service"] = service
    api = ServiceApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
            "extra_plugins": [ProblemResponses()],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
        },
    )
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    owners = _register_plugin_blueprints(app, api, plugins) if plugins else {}
    register_error_handlers(app)  # after Api: ours replaces flask-smorest's HTTPException handler
    db.init_app(app)
    _add_health(app, service, db)
    _add_authentication(app, service, keyring, lookup)
    if owners and plugin_enabled is not None:
        _add_plugin_switch(app, owners, plugin_enabled)
    return app


def _register_plugin_blueprints(app: Flask, api: Api, plugins) -> dict[str, str]:
    """Each plugin's blueprints at `/api/v1/plugins/<name>/`; returns `{blueprint name: plugin}`."""
    owners = {}
    for impl in reversed(plugins.hook.psa_register_blueprints.get_hookimpls()):  # pluggy's own order
        others = [p for p in plugins.get_plugins() if p is not impl.plugin]
        for contributed in plugins.subset_hook_caller("psa_register_blueprints", others)():
            for name, blueprint in contributed:
                # flask-smorest's through the Api, so their documented views are in the OpenAPI
                # document; a plain flask.Blueprint has nothing to document and the Api refuses it
                register = api if isinstance(blueprint, flask_smorest.Blueprint) else app
                register.register_blueprint(blueprint, url_prefix=f"/api/v1/plugins/{name}")
                owners[blueprint.name] = impl.plugin_name
    return owners


def _add_plugin_switch(app: Flask, owners: dict[str, str], enabled: Callable[[uuid.UUID, str], bool]) -> None:
    @app.before_request
    def _plugin_switched_off():  # after _authenticate: in the member's tenant (its query connects)
        plugin = owners.get(request.blueprints[-1]) if request.blueprints else None
        if plugin is not None and "principal" in g and not enabled(tenancy.current_tenant(), plugin):
            raise NotFound()  # as a path that is not there: the tenant has no such plugin


class JsonProvider(DefaultJSONProvider):
    """Flask's JSON, written by orjson: same keys in the same order, dates and decimals as Flask
    writes them; whatever orjson will not write (an integer past 64 bits) goes the json module's way."""

    OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS

    def dumps(self, obj, **kwargs) -> str:
        if kwargs and kwargs != {"separators": (",", ":")}:  # compact is what orjson writes
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=self.OPTIONS).decode()
        except orjson.JSONEncodeError:
            return super().dumps(obj)


def _add_health(app: Flask, service: str, db: ServiceDatabase) -> None:
    @app.get("/healthz")
    @public
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    @public
    def readyz():
        db.proxy.execute_sql("SELECT 1")
        return jsonify(status="ready", service=service)

    @app.get("/metrics")
    @public
    def metrics():
        return prometheus_client.generate_latest(), 200, {"Content-Type": prometheus_client.CONTENT_TYPE_LATEST}


def _add_authentication(app: Flask, service: str, keyring: KeyRing, lookup: Callable) -> None:
    @app.before_request
    def _authenticate():
        g.started = time.perf_counter()
        tenancy.correlation_id.set(request.headers.get("X-Correlation-Id") or uuid.uuid4().hex)
        view = app.view_functions.get(request.endpoint)
        if view is None or getattr(view, "_psa_public", False) or request.blueprint == "api-docs":  # the OpenAPI
            return
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            raise Unauthorized("send 'Authorization: Bearer <token>'")
        claims = keyring.verify(header[7:].strip())
        g.tenant_token = tenancy.enter_tenant(claims["tid"])  # signed: safe to scope the member lookup
        g.principal = principal_from_claims(claims, lookup)
        g.actor_token = tenancy.actor.set(str(g.principal.member_id))

    counters, latency = {}, LATENCY.labels(service)  # labels() locks and checks on every call

    @app.after_request
    def _count(response):
        key = (request.method, response.status_code)
        if (counter := counters.get(key)) is None:
            counter = counters[key] = REQUESTS.labels(service, *key)
        counter.inc()
        if "started" in g:
            latency.observe(time.perf_counter() - g.started)
        return response

    @app.teardown_request
    def _leave(exc):
        if "tenant_token" in g:
            tenancy.leave_tenant(g.pop("tenant_token"))
            if "actor_token" in g:
                tenancy.actor.reset(g.pop("actor_token"))


# --- keyset pagination: page 10,000 costs what page 1 costs ------------------------------------


class ListArgs(ma.Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    after = fields.String(load_default=None, validate=validate.Length(max=200))


def page_schema(item_schema: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """`{"items": [...], "next_cursor": str|null}` around an item schema."""
    return ma.Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "next_cursor": fields.String(allow_none=True)},
        name=name or f"{item_schema.__name__.removesuffix('Schema')}Page",
    )


def whole_list(items) -> dict:
    """A list short enough to answer in one page (a tenant's boards, a ticket's trail): every item,
    and `next_cursor` null beside them, as every paged list ends, so one client loop reads both."""
    return {"items": list(items), "next_cursor": None}


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_refused() -> InvalidInput:
    """The 422 for an `after` that is not one of our cursors, its detail and `errors` in the same
    words (they said two things until 2026-11-27)."""
    return field_error("after", "not a cursor this API issued")


def decode_cursor(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise cursor_refused() from None
    if not isinstance(values, list):
        raise cursor_refused()
    return values


def keyset_page(query, model, args: dict) -> dict:
    """One page of `query`, newest first by the model's time-ordered UUID id."""
    if (after := keyset_after(args)) is not None:
        query = query.where(model.id < after)
    return keyset_rows(list(query.order_by(model.id.desc()).limit(args["limit"] + 1)), args)


def keyset_after(args: dict) -> uuid.UUID | None:
    """The id a page request continues after (None for the first page)."""
    if not args.get("after"):
        return None
    values = decode_cursor(args["after"])
    try:
        (last,) = values  # a hand-made cursor of another length was a 500 until 2026-11-26
        return uuid.UUID(str(last))
    except ValueError:
        raise cursor_refused() from None


def time_ordered_page(query, model, column, args: dict) -> dict:
    """One page of `query` by `column` (a datetime), earliest first, then id: a calendar's order,
    kept by the cursor `[time, id]` however many rows share a time."""
    if (after := _time_and_id(args)) is not None:
        at, row_id = after
        query = query.where(Tuple(column, model.id) > Tuple(column.db_value(at), model.id.db_value(row_id)))
    rows = list(query.order_by(column, model.id).limit(args["limit"] + 1))
    return keyset_rows(rows, args, cursor_of=lambda row: [getattr(row, column.name).isoformat(), str(row.id)])


def _time_and_id(args: dict) -> tuple[dt.datetime, uuid.UUID] | None:
    if not args.get("after"):
        return None
    try:
        at, row_id = decode_cursor(args["after"])
        return dt.datetime.fromisoformat(at), uuid.UUID(row_id)
    except (TypeError, ValueError, AttributeError):  # another length, or not strings
        raise cursor_refused() from None


def _id_cursor(row) -> list:
    return [str(row.id)]


def keyset_rows(rows: list, args: dict, cursor_of: Callable[[object], list] = _id_cursor) -> dict:
    """The page body from up to `limit + 1` rows read in the page's order (one more tells a next
    page exists); the cursor holds `cursor_of(last row)`, by default its id."""
    more = len(rows) > args["limit"]
    rows = rows[: args["limit"]]
    return {"items": rows, "next_cursor": encode_cursor(cursor_of(rows[-1])) if more and rows else None}
