"""Hot-path queries built once and run many times: peewee writes SQL text by walking the query
tree on every execute (about half a millisecond for a select of a wide table on a small
machine); a `Statement` walks it once per database and afterwards only binds new values.

Tenant scoping is kept, not bypassed: while a statement is built, the tenant in context is a
parameter, so the tenant filter and the stamped `tenant_id` are parameters too, filled from the
scope at every run; run without a tenant in context, a statement raises like any query.

    TICKET_BY_NUMBER = Statement(lambda: Ticket.select().where(Ticket.number == Slot("number")))
    TICKET_BY_NUMBER.models(number=42)
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import threading
import uuid
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import peewee

from . import tenancy
from .events import utc_iso


class Slot(peewee.Node):
    """A named parameter of a Statement. Compared with a field, it converts as the field does;
    elsewhere (insert values) it takes the converter given."""

    def __init__(self, name: str, converter: Callable | None = None):
        self.name, self.converter = name, converter

    def __sql__(self, ctx):
        ctx._values.append(_Bound(self.name, self.converter or ctx.state.converter))
        return ctx.literal(ctx.state.param or "?")


@dataclass(frozen=True)
class _Bound:
    name: str
    converter: Callable | None

    def value(self, values: dict):
        value = values[self.name]
        return value if self.converter is None or value is None else self.converter(value)


TENANT = "tenant"
_TENANT_SLOT = Slot(TENANT, peewee.UUIDField().db_value)


class BuiltWithFixedValue(ValueError):
    """A value was worked out when the statement was built (a default id or a clock), so every run
    would reuse it; make it a Slot."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    template: tuple
    query: peewee.BaseQuery
    tenanted: bool
    reader: Callable[[tuple], peewee.Model] | None


class Statement:
    """A query built by `build()` with `Slot`s, compiled once per database."""

    def __init__(self, build: Callable[[], peewee.BaseQuery]):
        self.build = build
        self._source: peewee.Database | peewee.DatabaseProxy | None = None
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def cursor(self, **values):
        compiled, database = self._for_database()
        return database.execute_sql(compiled.sql, self._params(compiled, values))

    def run(self, **values) -> None:
        """Run a write for its effect; inside `atomic_writes()` on PostgreSQL it is sent with the
        transaction's other statements (`execute_later`)."""
        self._send(values, None)

    def run_returning(self, **values) -> list[tuple]:
        """`run` for a write whose rows (RETURNING) are read: the list holds them once it has run,
        at the commit of an `atomic_writes()` block on PostgreSQL, at once elsewhere."""
        rows = []
        self._send(values, rows)
        return rows

    def _send(self, values: dict, rows: list | None) -> None:
        compiled, database = self._for_database()
        params = self._params(compiled, values)
        if hasattr(database, "execute_later"):
            database.execute_later(compiled.sql, params, rows)
        else:
            cursor = database.execute_sql(compiled.sql, params)
            if rows is not None:
                rows.extend(cursor.fetchall())

    @staticmethod
    def _params(compiled: _Compiled, values: dict) -> list:
        if compiled.tenanted:
            values[TENANT] = tenancy.current_tenant()
        return [p.value(values) if type(p) is _Bound else p for p in compiled.template]

    def rows(self, **values) -> list[tuple]:
        """Rows as the driver returns them (no conversion to Python values)."""
        return self.cursor(**values).fetchall()

    def scalar(self, **values):
        row = self.cursor(**values).fetchone()
        return None if row is None else row[0]

    def models(self, **values) -> list:
        """Rows as the query would return them (model instances for a model select)."""
        compiled, _ = self._for_database()
        cursor = self.cursor(**values)
        if compiled.reader is not None:
            return [compiled.reader(row) for row in cursor.fetchall()]
        return list(compiled.query._get_cursor_wrapper(cursor).iterator())

    def first(self, **values):
        """The first of `models()`, or None."""
        found = self.models(**values)
        return found[0] if found else None

    def _for_database(self) -> tuple[_Compiled, peewee.Database]:
        if self._source is None:
            query = self._template()
            self._source = query._database or query.model._meta.database
        database = self._source.obj if isinstance(self._source, peewee.DatabaseProxy) else self._source
        compiled = self._compiled.get(database)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(database) or self._compile(database)
                self._compiled[database] = compiled
        return compiled, database

    def _template(self):
        return contextvars.copy_context().run(_building, self.build)

    def _compile(self, database) -> _Compiled:
        (query, (sql, params)), (_, (again, params_again)) = (self._compiled_once(database) for _ in range(2))
        fixed = [a for a, b in zip(params, params_again, strict=True) if type(a) is not _Bound and a != b]
        if sql != again or fixed:
            raise BuiltWithFixedValue(f"statement built with a value that changes between builds: {fixed[:1]}")
        tenanted = any(type(p) is _Bound and p.name == TENANT for p in params)
        return _Compiled(sql, tuple(params), query, tenanted, _model_reader(query))

    def _compiled_once(self, database):
        # Built and written out in one context: an insert works out column defaults (its tenant
        # among them) while its SQL is written, not while it is built.
        return contextvars.copy_context().run(_building, lambda: _parsed(self.build(), database))


def _model_reader(query) -> Callable[[tuple], peewee.Model] | None:
    """For a select of one model's own columns (and aliased subqueries, read as attributes the
    way peewee reads them): a row to an instance holding what peewee's cursor wrapper would put in
    it, without its keyword-argument construction (a third of a list page)."""
    if not isinstance(query, peewee.ModelSelect) or query._from_list != [query.model] or query._joins:
        return None
    model, columns = query.model, query._returning
    fields = [c for c in columns if isinstance(c, peewee.Field) and c.model is model]
    extras = [c for c in columns if isinstance(c, peewee.SelectQuery) and c._alias]  # subquery columns
    if len(fields) + len(extras) != len(columns) or columns[: len(fields)] != fields:
        return None
    names = [c.name for c in fields]
    converters = [python_value(c) for c in fields]
    extra_names = [c._alias for c in extras]
    new, width = model.__new__, len(fields)

    def read(row: tuple) -> peewee.Model:
        instance = new(model)
        instance.__data__ = {
            name: None if value is None else convert(value)
            for name, convert, value in zip(names, converters, row[:width], strict=True)
        }
        instance._dirty, instance.__rel__ = set(), {}
        for name, value in zip(extra_names, row[width:], strict=True):
            setattr(instance, name, value)
        return instance

    return read


def python_value(field: peewee.Field) -> Callable:
    """`field.python_value`, shortened for the column types every row has (ids and times)."""
    target = field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
    if type(target) is peewee.UUIDField:
        return lambda value: _uuid(value) if type(value) is str else target.python_value(value)
    if type(target) is peewee.DateTimeField:
        return lambda value: _datetime(value) if type(value) is str else value
    return field.python_value


def dumped_value(field: peewee.Field) -> Callable:
    """A column's value as the driver returns it, to what a response schema dumps for it (an id or
    a time as text, anything else as it is) without making the Python value in between: SQLite's
    32 hex digits and `YYYY-MM-DD HH:MM:SS[.ffffff]` are rearranged; other values take the long way."""
    target = field.rel_field if isinstance(field, peewee.ForeignKeyField) else field
    if type(target) is peewee.UUIDField:
        read = python_value(field)
        return lambda value: _uuid_text(value) if type(value) is str and len(value) == 32 else str(read(value))
    if type(target) is peewee.DateTimeField:
        read = python_value(field)
        return lambda value: _time_text(value) if type(value) is str else utc_iso(read(value))
    return _as_is


def _as_is(value):
    return value


def _uuid_text(value: str) -> str:
    if not value.strip("0123456789abcdef"):  # lowercase hex, as UUIDField writes it
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(_uuid(value))


def _time_text(value: str) -> str:
    if len(value) in (19, 26) and value[10] == " ":  # naive, as DateTimeField writes it: isoformat(" ")
        return f"{value[:10]}T{value[11:]}Z"
    return utc_iso(_datetime(value))


def _uuid(value: str, new=object.__new__, assign=object.__setattr__, unknown=uuid.SafeUUID.unknown) -> uuid.UUID:
    """The 32 hex digits SQLite holds (as `UUIDField` writes them), read in a third of `uuid.UUID`'s
    time; anything else takes the checking constructor."""
    number = int(value, 16) if len(value) == 32 else -1
    if number < 0:  # another length, or a sign: uuid.UUID says what is wrong with it
        return uuid.UUID(value)
    instance = new(uuid.UUID)
    assign(instance, "int", number)
    assign(instance, "is_safe", unknown)
    return instance


def _datetime(value: str, slow=peewee.DateTimeField().python_value) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return slow(value)


def _parsed(query, database) -> tuple:
    return query, database.get_sql_context().parse(query)


def _building(build):
    tenancy._tenant.set(_TENANT_SLOT)
    tenancy._memo.set({})
    return build()


class Insert(Statement):
    """INSERT of every column of `model`, for writing an instance built in Python (defaults
    filled when it was constructed, as `Model.save(force_insert=True)` would); optionally
    returning one value the INSERT itself reads (`returning()` builds it, with its own Slots)."""

    def __init__(self, model: type[peewee.Model], returning: Callable[[], peewee.Node] | None = None):
        self.model, self.returns = model, returning is not None
        self.tenanted = issubclass(model, tenancy.TenantModel)  # tenant_id then comes from the scope
        self.fields = [f for f in model._meta.sorted_fields if not (self.tenanted and f.name == "tenant_id")]

        def build():
            query = model.insert({f: Slot(f.name, f.db_value) for f in self.fields})
            return query.returning(returning()) if returning else query

        super().__init__(build)

    def write(self, instance: peewee.Model, **values):
        """Insert `instance`; `values` fill the returning expression's Slots, whose value is returned."""
        value = self.write_row(instance.__data__, **values)
        instance._dirty.clear()
        return value

    def write_row(self, data: dict, **values):
        """Insert a row given as a dict of column values, for a row the caller never reads back as
        a model; a column left out takes its field's default, as the model's constructor gives it."""
        if self.tenanted and data.get("tenant_id") != tenancy.current_tenant():
            raise tenancy.TenantScopeError(f"refusing to write a {self.model.__name__} row into another tenant")
        values.update({f.name: data[f.name] if f.name in data else _default(f) for f in self.fields})
        return self.cursor(**values).fetchone()[0] if self.returns else self.run(**values)


def _default(field: peewee.Field):
    return field.default() if callable(field.default) else field.default


class Shapes:
    """A family of statements told apart by their shape (which filters a list request uses, how
    many ids an IN list holds), each built by `build(shape)` on first use. Shapes are few, but a
    bound keeps a caller with unusual ones from growing the cache without end."""

    def __init__(self, build: Callable[[Hashable], peewee.BaseQuery], most: int = 512):
        self.build, self.most = build, most
        self._statements: dict[Hashable, Statement] = {}

    def __getitem__(self, shape: Hashable) -> Statement:
        statement = self._statements.get(shape)
        if statement is None:
            if len(self._statements) >= self.most:
                self._statements.clear()
            statement = self._statements[shape] = Statement(functools.partial(self.build, shape))
        return statement
