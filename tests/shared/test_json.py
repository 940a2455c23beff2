"""Response bodies written by orjson read exactly as Flask's own JSON would have written them."""

import dataclasses
import datetime as dt
import decimal
import json
import uuid

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from psa_shared.web import JsonProvider


@dataclasses.dataclass
class Line:
    amount: decimal.Decimal


def test_bodies_match_flasks_json_for_what_an_api_returns():
    app = Flask(__name__)
    ours, flasks = JsonProvider(app), DefaultJSONProvider(app)
    body = {
        "items": [{"id": uuid.UUID(int=7), "number": 42, "summary": "Café printer", "billable": True}],
        "total": decimal.Decimal("120.50"),
        "at": dt.datetime(2026, 11, 25, 9, 30),
        "day": dt.date(2026, 11, 25),
        "line": Line(decimal.Decimal("0.00")),
        "by_number": {1: "one"},
        "huge": 2**70,  # past orjson's 64 bits: the json module writes it
        "next_cursor": None,
    }
    with app.app_context():
        assert json.loads(ours.dumps(body)) == json.loads(flasks.dumps(body))
        assert ours.response(body).get_json() == flasks.response(body).get_json()
