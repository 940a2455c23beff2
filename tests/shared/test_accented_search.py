"""A search box finds "École" typed as "école", in every list with `q`, on both backends.

SQLite's LIKE folds ASCII letters alone: until 2026-11-27 an MSP in Lyon, Zürich or Malmö
searching its embedded install in lower case found nothing whose name began with a capital
accented letter (PostgreSQL's ILIKE folds them)."""

from tests.vault.credentials_kit import settle, store


def names(api, path: str, q: str, key: str = "name") -> list[str]:
    listed = api.get(path, query_string={"q": q})
    assert listed.status_code == 200, listed.json
    return [item[key] for item in listed.json["items"]]


def test_a_ticket_summary_is_found_whatever_the_case_of_its_accented_letters(tenant):
    client = tenant.client("École Saint-Exupéry")
    for summary in ("École: imprimante bloquée", "Ordinateur lent", "ÉCOLE: wifi"):
        made = tenant.api.post("/api/v1/tickets", json={"client_id": client["id"], "summary": summary})
        assert made.status_code == 201, made.json
    assert names(tenant.api, "/api/v1/tickets", "école", "summary") == ["ÉCOLE: wifi", "École: imprimante bloquée"]
    assert names(tenant.api, "/api/v1/tickets", "BLOQUÉE", "summary") == ["École: imprimante bloquée"]
    assert names(tenant.api, "/api/v1/tickets", "ecole", "summary") == []  # accents still count
    assert names(tenant.api, "/api/v1/tickets", "%é", "summary") == []  # still literal


def test_clients_and_contacts_are_found_whatever_the_case(tenant):
    zurich = tenant.client("Zahnarztpraxis Zürich")
    tenant.client("Åsa's Bakery")
    assert names(tenant.api, "/api/v1/clients", "ZÜRICH") == ["Zahnarztpraxis Zürich"]
    assert names(tenant.api, "/api/v1/clients", "åsa") == ["Åsa's Bakery"]
    made = tenant.api.post("/api/v1/contacts", json={"client_id": zurich["id"], "name": "Jürgen Öztürk"})
    assert made.status_code == 201, made.json
    assert names(tenant.api, "/api/v1/contacts", "öztürk") == ["Jürgen Öztürk"]


def test_vault_configurations_and_credentials_are_found_whatever_the_case(psa, tenant):
    client = tenant.client("Malmö Tandvård")
    settle(psa)
    made = tenant.api.post(
        "/api/v1/configurations", json={"client_id": client["id"], "type": "printer", "name": "Skrivare Öst"}
    )
    assert made.status_code == 201, made.json
    store(tenant.api, client["id"], name="Ärende-portalen admin")
    assert names(tenant.api, "/api/v1/configurations", "öst") == ["Skrivare Öst"]
    assert names(tenant.api, "/api/v1/credentials", "ärende") == ["Ärende-portalen admin"]
