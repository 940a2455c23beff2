"""The bare Flask baseline: one INSERT per create, one page read per list, on the bench database.

Served by gunicorn with the same settings as PSA Core (`gunicorn "tests.bench.baseline:create_app()"`).
No auth, no validation, no ORM, no events: the floor the real endpoints are compared against.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import uuid

from flask import Flask, jsonify, request

PAGE = """SELECT id, number, summary, priority, status_kind, created_at FROM ticket
WHERE tenant_id = {p} AND client_id = {p} AND status_kind = 'open' ORDER BY id DESC LIMIT 50"""


def _connector(url: str):
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]

        def connect():
            connection = sqlite3.connect(path, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=wal")
            connection.execute("PRAGMA busy_timeout=10000")
            connection.execute("PRAGMA synchronous=normal")
            return connection

        return connect, "?", lambda value: uuid.UUID(value).hex
    import psycopg

    return (lambda: psycopg.connect(url)), "%s", uuid.UUID


def create_app() -> Flask:
    connect, p, as_id = _connector(os.environ["PSA_BENCH_BASELINE_URL"])
    tenant = as_id(os.environ["PSA_BENCH_TENANT"])
    local = threading.local()
    app = Flask("bench_baseline")

    def connection():
        if not hasattr(local, "connection"):
            local.connection = connect()
        return local.connection

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/insert")
    def insert():
        body = request.get_json()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        row_id = uuid.uuid4()
        db = connection()
        db.execute(
            f"INSERT INTO bench_baseline (id, tenant_id, summary, created_at) VALUES ({p}, {p}, {p}, {p})",
            (as_id(str(row_id)), tenant, str(body.get("summary", "")), now.isoformat(" ")),
        )
        db.commit()
        return jsonify(id=str(row_id)), 201

    @app.get("/page")
    def page():
        db = connection()
        rows = db.execute(PAGE.format(p=p), (tenant, as_id(request.args["client_id"]))).fetchall()
        db.commit()  # end the read transaction (psycopg opens one)
        keys = ("id", "number", "summary", "priority", "status_kind", "created_at")
        return jsonify(items=[dict(zip(keys, map(str, row), strict=True)) for row in rows])

    return app
