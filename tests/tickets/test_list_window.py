"""A broad filter's page reads a bounded stretch of tickets: a dispatcher asking for the P1 tickets
waiting on a client, of which there are none among a million, gets an answer at once (an empty
page and a cursor) instead of waiting while every ticket is read. Here the stretch is 4 tickets."""

import pytest

from psa_tickets.api import tickets as tickets_api

from .test_service_desk import open_ticket


@pytest.fixture
def window(monkeypatch):
    monkeypatch.setattr(tickets_api, "WINDOW", 4)


def walk(api, query: dict) -> list[list[str]]:
    """Every page's summaries, following `next_cursor` to the end."""
    pages, after = [], None
    while True:
        response = api.get("/api/v1/tickets", query_string={**query, **({"after": after} if after else {})})
        assert response.status_code == 200, response.json
        pages.append([t["summary"] for t in response.json["items"]])
        if not (after := response.json["next_cursor"]):
            return pages


def test_rare_matches_come_in_short_pages_that_together_list_each_once(tenant, window):
    acme = tenant.client("Acme")
    for n in range(10):
        open_ticket(tenant.api, acme["id"], summary=f"Routine {n}", priority="P1" if n in (1, 8) else "P4")
    pages = walk(tenant.api, {"priority": "P1", "limit": 5})
    assert pages == [["Routine 8"], [], ["Routine 1"]]  # 9..6, 5..2, then 1 and 0 (the last stretch)
    assert walk(tenant.api, {"priority": "P4", "limit": 2}) == [
        ["Routine 9", "Routine 7"],
        ["Routine 6", "Routine 5"],
        ["Routine 4", "Routine 3"],
        ["Routine 2", "Routine 0"],  # the last three tickets: no stretch to end the page
    ]


def test_none_matching_ends_after_reading_every_stretch_once(tenant, window):
    acme = tenant.client("Acme")
    for n in range(9):
        open_ticket(tenant.api, acme["id"], summary=f"Routine {n}")
    assert walk(tenant.api, {"status_kind": "waiting", "priority": "P1"}) == [[], [], []]


def test_lists_without_a_broad_filter_fill_their_pages(tenant, window):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    for n in range(6):
        open_ticket(tenant.api, (acme if n % 2 else river)["id"], summary=f"Routine {n}")
    assert walk(tenant.api, {"limit": 5}) == [[f"Routine {n}" for n in (5, 4, 3, 2, 1)], ["Routine 0"]]
    assert walk(tenant.api, {"client_id": acme["id"], "limit": 5}) == [["Routine 5", "Routine 3", "Routine 1"]]


def test_the_stretch_is_counted_in_the_tickets_the_selective_filters_leave(tenant, window):
    """A client's P1s: the stretch is four of that client's tickets, not four of the tenant's."""
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    for n in range(8):
        open_ticket(tenant.api, acme["id"], summary=f"Acme {n}", priority="P1" if n == 0 else "P3")
        open_ticket(tenant.api, river["id"], summary=f"River {n}")
    assert walk(tenant.api, {"client_id": acme["id"], "priority": "P1"}) == [[], ["Acme 0"]]


def test_a_technicians_stretch_holds_only_tickets_of_granted_clients(tenant, window):
    acme, river = tenant.client("Acme"), tenant.client("Riverside")
    tech = tenant.member("technician", grants=[acme["id"]])
    open_ticket(tenant.api, acme["id"], summary="Acme urgent", priority="P1")
    for n in range(6):
        open_ticket(tenant.api, river["id"], summary=f"River {n}", priority="P1")
    assert walk(tech.api, {"priority": "P1"}) == [["Acme urgent"]]
