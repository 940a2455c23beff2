"""The dispatcher's work queue: what needs someone next, tickets and project tasks in one list."""

import datetime as dt

from psa_tickets.servicedesk import clock

from .projects_seed import board, project, task, ticket


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour)


def test_queue_orders_by_priority_then_due_time_then_age(tenant, psa):
    acme = tenant.client("Acme")
    desk = board(psa, tenant)
    late_p2 = ticket(psa, tenant, acme["id"], desk, priority="P2", resolve_due_at=at(5), created_at=at(1))
    soon_p2 = ticket(psa, tenant, acme["id"], desk, priority="P2", resolve_due_at=at(3), created_at=at(2))
    no_due_old = ticket(psa, tenant, acme["id"], desk, priority="P2", created_at=at(1))
    outage = ticket(psa, tenant, acme["id"], desk, priority="P1", created_at=at(4), summary="Server down")
    ticket(psa, tenant, acme["id"], desk, priority="P1", kind="closed")
    waiting = ticket(psa, tenant, acme["id"], desk, priority="P4", kind="waiting", estimate_minutes=30)
    move = project(tenant.api, acme["id"])
    cabling = task(tenant.api, move["id"], priority="P2", estimate_minutes=300, due_at="2026-03-04T09:00:00Z")
    task(tenant.api, move["id"], priority="P1", done=True)
    items = tenant.api.get("/api/v1/work").json["items"]
    assert [i["id"] for i in items] == [outage, soon_p2, cabling["id"], late_p2, no_due_old, waiting]
    assert items[0]["kind"] == "ticket" and items[0]["summary"] == "Server down" and items[0]["number"]
    assert items[2] == {
        "kind": "task",
        "id": cabling["id"],
        "number": None,
        "summary": "Cable desks",
        "client_id": acme["id"],
        "priority": "P2",
        "assignee_id": None,
        "assignee_active": None,
        "due_at": "2026-03-04T09:00:00Z",
        "breached": True,  # March 2026 is long past
        "created_at": cabling["created_at"],
        "estimate_minutes": 300,
        "remaining_minutes": 300,
    }
    assert items[-1]["remaining_minutes"] == 30


def test_a_task_due_on_the_last_day_of_9999_still_comes_before_those_due_never(tenant, psa):
    """Until 2026-11-27 "no due time" sorted as midnight of 9999-12-31, so a task due later that day
    came after the ones with none, one page at a time as in a single one; until 2026-11-28 as the
    last microsecond of that day, so a task due at that very moment sorted among them by age."""
    move = project(tenant.api, tenant.client("Acme")["id"])
    never = task(tenant.api, move["id"], priority="P1")
    last_day = task(tenant.api, move["id"], priority="P1", due_at="9999-12-31T23:00:00Z")
    soon = task(tenant.api, move["id"], priority="P1", due_at="2030-01-01T00:00:00Z")
    last_moment = task(tenant.api, move["id"], priority="P1", due_at="9999-12-31T23:59:59.999999Z")
    expected = [soon["id"], last_day["id"], last_moment["id"], never["id"]]
    assert [i["id"] for i in tenant.api.get("/api/v1/work").json["items"]] == expected
    seen, cursor = [], None
    while cursor != "":
        page = tenant.api.get("/api/v1/work", query_string={"limit": 1} | ({"after": cursor} if cursor else {})).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"] or ""
    assert seen == expected


def test_pages_walk_the_whole_queue_without_repeats(tenant, psa):
    acme = tenant.client("Acme")
    desk = board(psa, tenant)
    expected = [ticket(psa, tenant, acme["id"], desk, priority=f"P{1 + n % 3}", created_at=at(1 + n)) for n in range(7)]
    move = project(tenant.api, acme["id"])
    expected += [task(tenant.api, move["id"], priority=f"P{1 + n % 3}")["id"] for n in range(5)]
    seen, cursor = [], None
    while True:
        page = tenant.api.get("/api/v1/work?limit=5" + (f"&after={cursor}" if cursor else "")).json
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert [i["id"] for i in tenant.api.get("/api/v1/work?limit=200").json["items"]] == seen


def test_filter_by_member_or_unassigned(tenant, psa):
    acme = tenant.client("Acme")
    ann = tenant.member("technician", grants=[acme["id"]])
    desk = board(psa, tenant)
    anns_ticket = ticket(psa, tenant, acme["id"], desk, assignee=ann.id)
    nobodys = ticket(psa, tenant, acme["id"], desk)
    anns_task = task(tenant.api, project(tenant.api, acme["id"])["id"], assignee_id=ann.id)
    mine = tenant.api.get(f"/api/v1/work?member_id={ann.id}").json["items"]
    assert {i["id"] for i in mine} == {anns_ticket, anns_task["id"]}
    assert [i["id"] for i in tenant.api.get("/api/v1/work?unassigned=true").json["items"]] == [nobodys]
    both = tenant.api.get(f"/api/v1/work?unassigned=true&member_id={ann.id}")
    assert both.status_code == 422 and "unassigned" in both.json["errors"]
    assert tenant.api.get("/api/v1/work?after=garbage").status_code == 422


def test_tech_queue_holds_only_granted_clients(tenant, psa):
    acme, bolt = tenant.client("Acme"), tenant.client("Bolt")
    desk = board(psa, tenant)
    visible = ticket(psa, tenant, acme["id"], desk)
    ticket(psa, tenant, bolt["id"], desk)
    task(tenant.api, project(tenant.api, bolt["id"])["id"])
    tech = tenant.member("technician", grants=[acme["id"]])
    assert [i["id"] for i in tech.api.get("/api/v1/work").json["items"]] == [visible]


def test_a_ticket_nobody_answered_is_due_for_its_response_and_the_queue_says_what_is_late(tenant, psa):
    """Until 2026-11-28 a ticket's place and due time in the queue were its resolution's only: a P2
    still waiting for its first call (due at 10:00 on the 3rd) sat behind one answered and due for
    its fix on the 4th, and nothing in the queue said which items were already late."""
    acme = tenant.client("Acme")
    desk = board(psa, tenant)
    answered = ticket(psa, tenant, acme["id"], desk, priority="P2", created_at=at(1), responded_at=at(1, 10),
                      respond_due_at=at(2), resolve_due_at=at(4))  # fmt: skip
    unanswered = ticket(psa, tenant, acme["id"], desk, priority="P2", created_at=at(2),
                        respond_due_at=at(3, 10), resolve_due_at=at(5))  # fmt: skip
    move = project(tenant.api, acme["id"])
    cabling = task(tenant.api, move["id"], priority="P2", due_at="2026-03-03T11:00:00Z")
    wiring = task(tenant.api, move["id"], priority="P2", due_at="2026-03-03T13:00:00Z")
    with clock.travel(at(3, 12)):
        items = tenant.api.get("/api/v1/work").json["items"]
        one_by_one, cursor = [], None
        while cursor != "":
            page = tenant.api.get("/api/v1/work", query_string={"limit": 1} | ({"after": cursor} if cursor else {}))
            one_by_one += page.json["items"]
            cursor = page.json["next_cursor"] or ""
    assert [(i["id"], i["due_at"], i["breached"]) for i in items] == [
        (unanswered, "2026-03-03T10:00:00Z", True),  # its response is two hours late
        (cabling["id"], "2026-03-03T11:00:00Z", True),
        (wiring["id"], "2026-03-03T13:00:00Z", False),
        (answered, "2026-03-04T09:00:00Z", False),  # answered in time, its fix due tomorrow
    ]
    assert one_by_one == items
