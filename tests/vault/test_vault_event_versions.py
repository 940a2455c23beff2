"""The vault's events as its consumers order them: every change of a credential or of the reveal
rules is sent with a later version than the one before, and a change that changes nothing sends nothing."""

import datetime as dt
import uuid
from itertools import pairwise

from psa_docs_vault.audit import AuditRow
from psa_docs_vault.credentials.models import CredentialChange
from psa_shared import events
from psa_shared.events import Event

from .credentials_kit import settle, store, vault_db


def _versions(psa, prefix: str) -> list[tuple[str, int, str]]:
    return [(e.type, e.version, e.payload["updated_at"]) for e in psa.emitted() if e.type.startswith(prefix)]


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _strictly_later(moments: list[str]) -> bool:
    return all(_moment(earlier) < _moment(later) for earlier, later in pairwise(moments))


def test_a_firewall_login_renamed_twice_then_deleted_sends_each_change_a_later_version(psa, tenant):
    """The tech files "fw admin", renames it FW-01 then FW-02, then deletes it: four events of one
    credential. Until 2026-11-28 they carried only `changed_at`, which moves with the secret alone,
    so all four had one time and a consumer could not tell the second rename from the first."""
    acme = tenant.client("Acme")
    settle(psa)
    path = f"/api/v1/credentials/{store(tenant.api, acme['id'], name='fw admin')['id']}"
    for name in ("FW-01 admin", "FW-02 admin"):
        assert tenant.api.patch(path, json={"name": name}).status_code == 200
    assert tenant.api.delete(path).status_code == 204

    sent = _versions(psa, "credential.")
    assert [(kind, version) for kind, version, _ in sent] == [
        ("credential.created", 2), ("credential.updated", 2), ("credential.updated", 2), ("credential.deleted", 2),
    ]  # fmt: skip
    assert _strictly_later([moment for *_, moment in sent])


def test_a_rename_waiting_for_another_servers_rename_sends_the_later_version(psa, tenant):
    """Two servers rename the Dental Practice's firewall login at once; the other one commits first,
    stamped by a clock a minute ahead. The waiting rename must still send the later version, or a
    consumer keeps the other name while the vault holds this one (until 2026-11-28 it stamped the
    moment it read the credential, before it waited)."""
    client = tenant.client("Dental Practice")
    settle(psa)
    credential = store(tenant.api, client["id"], name="fw admin")
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    other_rename = (
        "UPDATE credential SET name = %s, updated_at = %s WHERE id = %s",
        ("FW-01 admin (HQ)", ahead.replace(tzinfo=None), uuid.UUID(credential["id"])),
    )

    renamed = psa.meanwhile(
        "docs_vault",
        [other_rename],
        lambda: tenant.api.patch(f"/api/v1/credentials/{credential['id']}", json={"name": "FW-02 admin"}),
    )

    assert renamed.status_code == 200, renamed.json
    (sent,) = psa.emitted("credential.updated")
    assert sent.payload["name"] == "FW-02 admin" and _moment(sent.payload["updated_at"]) > ahead


def test_each_change_of_the_reveal_rules_is_sent_with_a_later_version(psa, tenant):
    """The owner tightens the reveal limit, then requires a reason. Until 2026-11-28
    `vault.settings_changed` carried no version at all."""
    settle(psa)
    for rules in ({"reveal_limit_per_hour": 20, "reason_required": False},
                  {"reveal_limit_per_hour": 20, "reason_required": True}):  # fmt: skip
        assert tenant.api.put("/api/v1/credentials/settings", json=rules).status_code == 200

    sent = _versions(psa, "vault.settings_changed")
    assert [version for _, version, _ in sent] == [2, 2]
    assert _strictly_later([moment for *_, moment in sent])


def test_events_sent_before_versions_are_read_with_the_earliest_version_they_can_have():
    """Version 1 events still in an outbox or on a queue when the vault is upgraded."""
    tenant_id, changed_at = str(uuid.uuid4()), "2026-11-02T09:00:00Z"
    credential = {"id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "configuration_id": None,
                  "name": "fw admin", "secret_changed": False, "changed_at": changed_at}  # fmt: skip
    for name in ("credential.created", "credential.updated", "credential.deleted"):
        read = events.parse(Event(type=name, tenant_id=tenant_id, payload=credential, version=1))
        assert read["updated_at"] == changed_at  # no later than the change it sent
    rules = {"reveal_limit_per_hour": 60, "reason_required": False}
    read = events.parse(Event(type="vault.settings_changed", tenant_id=tenant_id, payload=rules, version=1))
    assert read["updated_at"] == "1970-01-01T00:00:00Z"


def test_saving_a_credential_form_unchanged_writes_nothing_and_sends_nothing(psa, tenant):
    """The tech opens the firewall login, changes nothing and saves (or saves an empty form): no
    write, no change or audit row, no event, `updated_at` as it was. Sending the secret is always a
    change, the same one too: who typed it knows it, and the at-risk report must say so."""
    client = tenant.client("Dental Practice")
    settle(psa)
    credential = store(tenant.api, client["id"], name="fw admin", username="admin")
    path = f"/api/v1/credentials/{credential['id']}"

    for unchanged in ({"name": "fw admin", "username": "admin"}, {}):
        saved = tenant.api.patch(path, json=unchanged)
        assert saved.status_code == 200 and saved.json["updated_at"] == credential["updated_at"]
    assert [e.type for e in psa.emitted() if e.type.startswith("credential.")] == ["credential.created"]
    with vault_db(psa, tenant.id):
        assert [row.action for row in AuditRow.select()] == ["create"]
        assert CredentialChange.select().count() == 1

    assert tenant.api.patch(path, json={"name": "fw admin", "secret": "s3cret!"}).status_code == 200
    (sent,) = psa.emitted("credential.updated")
    assert sent.payload["secret_changed"] is True
    with vault_db(psa, tenant.id):
        assert CredentialChange.select().order_by(CredentialChange.at.desc()).first().fields == "secret"


def test_saving_a_configuration_unchanged_or_retiring_it_again_sends_nothing(psa, tenant):
    """The dispatcher saves the firewall's form with the same name, then retires it twice.
    Until 2026-11-28 each sent a `configuration.updated` and moved `updated_at`; the tickets
    service's records already stayed silent on such a save."""
    client = tenant.client("Dental Practice")
    settle(psa)
    made = tenant.api.post("/api/v1/configurations", json={"client_id": client["id"], "type": "firewall",
                                                            "name": "FW-01"}).json  # fmt: skip
    path = f"/api/v1/configurations/{made['id']}"

    saved = tenant.api.patch(path, json={"name": "FW-01", "type": "firewall"})
    assert saved.status_code == 200 and saved.json["updated_at"] == made["updated_at"]
    assert tenant.api.delete(path).status_code == 204
    assert tenant.api.delete(path).status_code == 204
    sent = [e.type for e in psa.emitted() if e.type.startswith("configuration.")]
    assert sent == ["configuration.created", "configuration.updated"]  # the retirement, once
