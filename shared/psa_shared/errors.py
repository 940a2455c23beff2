"""One error hierarchy, mapped to RFC 9457 problem+json in one handler."""

from __future__ import annotations

import logging

import peewee
from flask import Flask, json, request
from marshmallow.exceptions import SCHEMA
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .db import DatabaseRefused

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
# PostgreSQL's deadlock_detected and serialization_failure: the server is there, and the same
# request again is expected to pass (until 2026-11-28 answered "the database is not reachable")
COLLISIONS = ("40P01", "40001")


class Problem(Exception):
    """A failure the client should hear about. `errors` maps a field name to its messages."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, headers=None):
        # without a detail, the fields at fault are it (a plugin raising `InvalidInput(errors=...)`
        # said only "Invalid input" until 2026-11-28, where the service's own 422s name them)
        detail = detail or (describe(errors) if errors else self.title)
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class InvalidInput(Problem):
    status, title = 422, "Invalid input"


class NotFound(Problem):
    status, title = 404, "Not found"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"

    def __init__(self, detail: str | None = None, **kwargs):
        super().__init__(detail, **kwargs)
        # RFC 9110: a 401 names the scheme to authenticate with. Until 2026-11-27 only a request
        # without a bearer token heard it; an expired, forged or revoked one got no challenge.
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class Conflict(Problem):
    status, title = 409, "Conflict"


class TooManyRequests(Problem):
    status, title = 429, "Too many requests"


class Unavailable(Problem):
    status, title = 503, "Service unavailable"


def field_error(field: str, message: str) -> InvalidInput:
    """The usual 422: one field, one reason (a foreign id that is not ours reads 'not found')."""
    return InvalidInput(errors={field: [message]})


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests messages by location and field; clients want `{"field.sub": [...]}`."""
    if isinstance(messages, list):
        return {prefix or "body": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        # marshmallow files what is wrong with an object itself (a body that is an array, say)
        # under `_schema`: name the object, `body` at the top, as everywhere else (until
        # 2026-11-27 clients read `_schema`). An empty key in a map has no name of its own and
        # reads as the map too (it was `custom_fields.` until 2026-11-28).
        name = prefix if key in (SCHEMA, "") else str(key) if not prefix else f"{prefix}.{key}"
        for field, reasons in flatten_errors(value, name).items():
            flat.setdefault(field, []).extend(reasons)  # the object and its empty key: one name
    return flat


def _strip_location(messages: dict) -> dict:
    """{"json": {"email": [...]}} -> {"email": [...]}; the location is rarely what the user got wrong."""
    out: dict = {}
    for location, value in messages.items():
        if isinstance(value, dict) and location in ("json", "query", "form", "headers", "path", "files"):
            out.update(value)
        else:
            out[location] = value
    return out


def describe(errors: dict) -> str:
    """A problem's detail naming every field at fault: `field: message; other: message`."""
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())


def problem_response(status: int, title: str, detail: str, errors=None, headers=None):
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = Flask.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.extend(headers or {})
    return response


def _from_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    errors = flatten_errors(_strip_location(messages)) if isinstance(messages, dict) else None
    detail = data.get("message") or error.description or error.name
    if errors:
        detail = describe(errors)
    # The exception's own headers (a 405's Allow, lost until 2026-11-27), not its HTML type.
    headers = Headers([(name, value) for name, value in error.get_headers() if name != "Content-Type"])
    headers.extend(data.get("headers") or {})
    # a 422 is titled as ours are, whichever layer refused the field (webargs said "Unprocessable
    # Entity" where the service said "Invalid input", until 2026-11-27)
    title = InvalidInput.title if error.code == InvalidInput.status else error.name
    return problem_response(error.code or 500, title, detail, errors, headers)


def _size(limit: int) -> str:
    mebibytes, rest = divmod(limit, 1024 * 1024)
    return f"{mebibytes} MiB ({limit} bytes)" if mebibytes and not rest else f"{limit} bytes"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return problem_response(error.status, error.title, error.detail, error.errors, error.headers)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _from_http_exception(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        # the limit, not Werkzeug's "The data value transmitted exceeds the capacity limit."
        limit = request.max_content_length
        if limit is None:  # a form's own limits, which no route of ours relies on
            return _from_http_exception(error)
        return problem_response(413, "Payload too large", f"a request body may hold up to {_size(limit)}")

    @app.errorhandler(peewee.IntegrityError)
    def _integrity(error):
        log.info("integrity error: %s", type(error).__name__)
        return problem_response(409, "Conflict", "the change conflicts with existing data")

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    @app.errorhandler(DatabaseRefused)
    def _database_down(error):
        if getattr(getattr(error, "orig", None), "sqlstate", None) in COLLISIONS:
            log.warning("write collided: %s", error.orig.sqlstate)
            detail = "the change collided with another made at the same moment; retry"
            return problem_response(503, "Service unavailable", detail, headers={"Retry-After": "1"})
        log.warning("database unavailable: %s", type(error).__name__)
        return problem_response(503, "Service unavailable", "the database is not reachable; retry")

    @app.errorhandler(MaxConnectionsExceeded)
    def _pool_exhausted(error):
        log.warning("no database connection came free in time")
        return problem_response(
            503, "Service unavailable", "the service is busy; retry shortly", headers={"Retry-After": "1"}
        )

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error")
        return problem_response(500, "Internal server error", "an unexpected error occurred")
