"""Cross-tenant cases for the service desk: boards, statuses, tickets, time entries, notes, trail, reports."""


def seed(b, psa) -> dict:
    client = b.client("B's service-desk client")
    board = b.api.post("/api/v1/boards", json={"name": "B projects board", "autoclose_attempts": 3}).json
    ticket = b.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": "B's printer"}).json
    path = f"/api/v1/tickets/{ticket['id']}"
    entry = b.api.post(f"{path}/time-entries", json={"minutes": 15, "notes": "B's work"}).json
    note = b.api.post(f"{path}/notes", json={"text": "B's note"}).json
    return {
        "sd_client": client["id"],
        "board": board["id"],
        "ticket": ticket["id"],
        "entry": entry["id"],
        "note": note["id"],
    }


def WATCH(ids):  # noqa: N802  (a constant-like hook of every cases module)
    ticket = f"/api/v1/tickets/{ids['ticket']}"
    return [
        f"/api/v1/boards/{ids['board']}",
        f"/api/v1/boards/{ids['board']}/statuses",
        ticket,
        f"{ticket}/time-entries/{ids['entry']}",
        f"{ticket}/notes",
        f"{ticket}/timeline",
    ]


def _ticket(ids, rest=""):
    return f"/api/v1/tickets/{ids['ticket']}{rest}"


ROUTES = {
    ("GET", "/api/v1/boards"): lambda ids: {"path": "/api/v1/boards", "expect": "list"},
    ("POST", "/api/v1/boards"): lambda ids: {"path": "/api/v1/boards", "json": {"name": "A's board"}, "expect": 201},
    ("GET", "/api/v1/boards/<uuid:board_id>"): lambda ids: {"path": f"/api/v1/boards/{ids['board']}"},
    ("PATCH", "/api/v1/boards/<uuid:board_id>"): lambda ids: {
        "path": f"/api/v1/boards/{ids['board']}",
        "json": {"name": "Hijacked", "autoclose_attempts": 1},
    },
    ("GET", "/api/v1/boards/<uuid:board_id>/statuses"): lambda ids: {"path": f"/api/v1/boards/{ids['board']}/statuses"},
    ("POST", "/api/v1/boards/<uuid:board_id>/statuses"): lambda ids: {
        "path": f"/api/v1/boards/{ids['board']}/statuses",
        "json": {"name": "Hijacked", "kind": "open"},
    },
    ("GET", "/api/v1/tickets"): lambda ids: {"path": "/api/v1/tickets", "expect": "list"},
    ("POST", "/api/v1/tickets"): lambda ids: {
        "path": "/api/v1/tickets",
        "json": {"client_id": ids["sd_client"], "summary": "x"},
        "expect": 422,
    },
    ("GET", "/api/v1/tickets/<uuid:ticket_id>"): lambda ids: {"path": _ticket(ids)},
    ("PATCH", "/api/v1/tickets/<uuid:ticket_id>"): lambda ids: {
        "path": _ticket(ids),
        "json": {"status": "Closed", "priority": "P1"},
    },
    ("GET", "/api/v1/tickets/<uuid:ticket_id>/time-entries"): lambda ids: {"path": _ticket(ids, "/time-entries")},
    ("POST", "/api/v1/tickets/<uuid:ticket_id>/time-entries"): lambda ids: {
        "path": _ticket(ids, "/time-entries"),
        "json": {"minutes": 60},
    },
    ("GET", "/api/v1/tickets/<uuid:ticket_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": _ticket(ids, f"/time-entries/{ids['entry']}")
    },
    ("PATCH", "/api/v1/tickets/<uuid:ticket_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": _ticket(ids, f"/time-entries/{ids['entry']}"),
        "json": {"minutes": 600},
    },
    ("DELETE", "/api/v1/tickets/<uuid:ticket_id>/time-entries/<uuid:entry_id>"): lambda ids: {
        "path": _ticket(ids, f"/time-entries/{ids['entry']}")
    },
    ("GET", "/api/v1/tickets/<uuid:ticket_id>/notes"): lambda ids: {"path": _ticket(ids, "/notes")},
    ("POST", "/api/v1/tickets/<uuid:ticket_id>/notes"): lambda ids: {
        "path": _ticket(ids, "/notes"),
        "json": {"text": "planted"},
    },
    ("GET", "/api/v1/tickets/<uuid:ticket_id>/timeline"): lambda ids: {"path": _ticket(ids, "/timeline")},
    ("GET", "/api/v1/tickets/<uuid:ticket_id>/report.html"): lambda ids: {"path": _ticket(ids, "/report.html")},
    ("GET", "/api/v1/clients/<uuid:client_id>/activity-report.html"): lambda ids: {
        "path": f"/api/v1/clients/{ids['sd_client']}/activity-report.html?from=2020-01-01&to=2030-01-01"
    },
}
