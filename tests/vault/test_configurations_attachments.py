"""License files and device configs attached to configurations: kept outside the database,
checksummed, size-limited, allow-listed, and served only through the API with the same checks."""

import hashlib
import io
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from psa_docs_vault.attachments.models import Attachment
from psa_docs_vault.attachments.store import MAGIC
from psa_shared.tenancy import tenant_scope

from .credentials_kit import client_configuration

URL = "/api/v1/configurations"
LICENSE = b"LICENSE-KEY: ABCD-EFGH-IJKL\nSeats: 25\n"


def upload(api, configuration_id, content=LICENSE, filename="office.lic", content_type=None):
    file = (io.BytesIO(content), filename, content_type) if content_type else (io.BytesIO(content), filename)
    return api.post(f"{URL}/{configuration_id}/attachments", data={"file": file})


@pytest.fixture
def server(psa, tenant):
    return client_configuration(psa, tenant, "license", "Office 365")


def stored_rows(psa, tenant) -> int:
    with psa.service("docs_vault").db.proxy.connection_context(), tenant_scope(tenant.id):
        return Attachment.select().count()


def stored_files(psa) -> list[Path]:
    root = psa.settings.data_dir / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def vault_events(psa) -> list[str]:
    service = psa.service("docs_vault")
    with service.db.proxy.connection_context():
        return [row.type for row in service.outbox.model.select() if row.type.startswith("attachment.")]


def test_license_file_round_trips_under_its_original_name(psa, tenant, server):
    made = upload(tenant.api, server["id"], filename="Office 365 – Lizenz.lic")
    assert made.status_code == 201, made.json
    assert made.json["filename"] == "Office 365 – Lizenz.lic"
    assert made.json["size"] == len(LICENSE) and made.json["sha256"] == hashlib.sha256(LICENSE).hexdigest()
    assert made.json["content_type"] == "application/octet-stream"
    listed = tenant.api.get(f"{URL}/{server['id']}/attachments").json["items"]
    assert [a["id"] for a in listed] == [made.json["id"]]
    download = tenant.api.get(f"{URL}/{server['id']}/attachments/{made.json['id']}")
    assert download.status_code == 200 and download.data == LICENSE
    disposition = download.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and "filename*=UTF-8''Office%20365%20%E2%80%93%20Lizenz.lic" in disposition
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert vault_events(psa) == ["attachment.added"]


def test_bytes_live_outside_the_database_under_an_id_not_the_client_filename(psa, tenant, server):
    made = upload(tenant.api, server["id"], filename="../../etc/passwd.txt", content=b"harmless text")
    assert made.status_code == 201, made.json
    assert made.json["filename"] == "passwd.txt"
    (path,) = stored_files(psa)
    assert path.name == made.json["id"] and path.parent.name == tenant.id
    assert path.read_bytes().startswith(MAGIC) and b"harmless text" not in path.read_bytes()  # sealed


def test_attachment_folder_can_be_moved_with_an_environment_variable(psa, tenant, server, tmp_path, monkeypatch):
    from psa_shared.config import Settings

    elsewhere = tmp_path / "nas"
    monkeypatch.setenv("PSA_VAULT_ATTACHMENT_DIR", str(elsewhere))
    psa.settings = Settings.from_env()
    psa.rebuild()  # a fresh app reads the new settings
    api = psa.http.as_token(tenant.token)
    made = upload(api, server["id"])
    assert made.status_code == 201, made.json
    assert (elsewhere / tenant.id / made.json["id"]).read_bytes().startswith(MAGIC)
    assert api.get(f"{URL}/{server['id']}/attachments/{made.json['id']}").data == LICENSE


def test_tampered_file_is_refused_on_download(psa, tenant, server):
    made = upload(tenant.api, server["id"]).json
    (path,) = stored_files(psa)
    path.write_bytes(b"LICENSE-KEY: FORGED\n")
    refused = tenant.api.get(f"{URL}/{server['id']}/attachments/{made['id']}")
    assert refused.status_code == 500 and refused.content_type == "application/problem+json"
    assert b"FORGED" not in refused.data


def test_missing_file_is_reported_not_served_empty(psa, tenant, server):
    made = upload(tenant.api, server["id"]).json
    (path,) = stored_files(psa)
    path.unlink()
    assert tenant.api.get(f"{URL}/{server['id']}/attachments/{made['id']}").status_code == 500


def test_deleting_an_attachment_removes_row_and_bytes(psa, tenant, server):
    made = upload(tenant.api, server["id"]).json
    assert tenant.api.delete(f"{URL}/{server['id']}/attachments/{made['id']}").status_code == 204
    assert tenant.api.get(f"{URL}/{server['id']}/attachments/{made['id']}").status_code == 404
    assert stored_rows(psa, tenant) == 0 and stored_files(psa) == []
    assert vault_events(psa) == ["attachment.added", "attachment.removed"]


def test_attachment_of_another_configuration_is_not_found(psa, tenant, server):
    other = tenant.api.post(URL, json={"client_id": server["client_id"], "type": "other", "name": "x"}).json
    made = upload(tenant.api, server["id"]).json
    assert tenant.api.get(f"{URL}/{other['id']}/attachments/{made['id']}").status_code == 404
    assert tenant.api.delete(f"{URL}/{other['id']}/attachments/{made['id']}").status_code == 404


def test_tech_without_grant_cannot_download_the_license_file(psa, tenant, server):
    made = upload(tenant.api, server["id"]).json
    outsider = tenant.member("technician", grants=[])
    insider = tenant.member("technician", grants=[server["client_id"]])
    psa.settle()
    base = f"{URL}/{server['id']}/attachments"
    for response in (
        outsider.api.get(base),
        outsider.api.get(f"{base}/{made['id']}"),
        outsider.api.delete(f"{base}/{made['id']}"),
        upload(outsider.api, server["id"]),
    ):
        assert response.status_code == 404 and response.content_type == "application/problem+json"
        assert LICENSE not in response.data
    assert insider.api.get(f"{base}/{made['id']}").data == LICENSE
    assert stored_rows(psa, tenant) == 1


def test_oversized_attachment_is_refused_and_nothing_is_kept(psa, tenant, server, monkeypatch):
    from psa_shared.config import Settings

    monkeypatch.setenv("PSA_VAULT_MAX_ATTACHMENT_BYTES", "1000")
    psa.settings = Settings.from_env()
    psa.rebuild()
    api = psa.http.as_token(tenant.token)
    assert upload(api, server["id"], content=b"x" * 1000, filename="ok.txt").status_code == 201
    refused = upload(api, server["id"], content=b"x" * 1001, filename="big.txt")
    assert refused.status_code == 413 and refused.content_type == "application/problem+json"
    assert "file" in refused.json["errors"]
    huge = upload(api, server["id"], content=b"x" * 200_000, filename="huge.txt")  # refused before reading
    assert huge.status_code == 413 and "file" in huge.json["errors"]
    assert stored_rows(psa, tenant) == 1 and len(stored_files(psa)) == 1
    assert vault_events(psa) == ["attachment.added"]


def test_a_chunked_upload_past_the_limit_is_refused_naming_the_file_as_one_with_a_length_is(psa, tenant, server):
    """A streaming client sends no Content-Length: until 2026-11-28 its oversized upload was a 413
    naming no field, titled otherwise than the same file sent with its length."""
    eleven_mib = b"x" * (11 * 1024 * 1024)  # past the upload's headroom for the multipart around the file
    form = EnvironBuilder(method="POST", data={"file": (io.BytesIO(eleven_mib), "big.bak")})
    multipart = form.get_environ()
    refused = tenant.api.post(
        f"{URL}/{server['id']}/attachments",
        input_stream=io.BytesIO(multipart["wsgi.input"].read()),
        content_type=multipart["CONTENT_TYPE"],
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    sized = upload(tenant.api, server["id"], content=eleven_mib, filename="big.bak")
    assert refused.status_code == 413 and "file" in refused.json["errors"], refused.json
    assert (refused.json["title"], refused.json["errors"]) == (sized.json["title"], sized.json["errors"])
    assert stored_rows(psa, tenant) == 0 and stored_files(psa) == []


def test_default_limit_is_ten_mebibytes(psa, tenant, server):
    refused = upload(tenant.api, server["id"], content=b"x" * (10 * 1024 * 1024 + 1), filename="big.bak")
    assert refused.status_code == 413 and "file" in refused.json["errors"]
    assert stored_rows(psa, tenant) == 0 and stored_files(psa) == []


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "status"),
    [
        ("setup.exe", b"MZ\x90\x00 program", None, 415),
        ("license.lic", b"MZ\x90\x00 a program named like a license", None, 415),
        ("backup.cfg", b"\x7fELF\x02\x01", None, 415),
        ("fix.txt", b"#!/bin/sh\nrm -rf /\n", None, 415),
        ("x.lic", b" \n\t#!/bin/sh\nrm -rf /\n", None, 415),
        ("x.lic", b"\xef\xbb\xbf#!/bin/sh\nrm -rf /\n", None, 415),
        ("run.ps1", b"Write-Host hi", None, 415),
        ("install.sh", b"echo hi", None, 415),
        ("noextension", b"data", None, 415),
        (".lic", b"data", None, 415),
        ("invoice.pdf", b"not a pdf at all", None, 415),
        ("photo.png", b"GIF89a....", None, 415),
        ("config.zip", b"plain text", None, 415),
        ("notes.txt", b"text", "application/x-msdownload", 415),
        ("scan.pdf", b"%PDF-1.7 ...", "text/html", 415),
        ("", b"data", None, 422),
        ("..", b"data", None, 422),
        ("x" * 201 + ".txt", b"data", None, 422),
    ],
)
def test_wrong_type_attachment_is_refused_naming_the_file(psa, tenant, server, filename, content, content_type, status):
    refused = upload(tenant.api, server["id"], content=content, filename=filename, content_type=content_type)
    assert refused.status_code == status, refused.data
    assert refused.content_type == "application/problem+json" and "file" in refused.json["errors"]
    assert stored_rows(psa, tenant) == 0 and stored_files(psa) == []
    assert vault_events(psa) == []


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "served_as"),
    [
        ("invoice.pdf", b"%PDF-1.7\n...", "application/pdf", "application/pdf"),
        ("rack.png", b"\x89PNG\r\n\x1a\n....", "image/png", "image/png"),
        ("label.jpg", b"\xff\xd8\xff\xe0....", "image/jpeg", "image/jpeg"),
        ("backup.zip", b"PK\x03\x04....", "application/zip", "application/zip"),
        ("readme.txt", b"hello", "text/plain", "text/plain"),
        ("switch.cfg", b"hostname sw1\n", None, "application/octet-stream"),
        ("html.txt", b"<script>alert(1)</script>", "text/plain", "text/plain"),
    ],
)
def test_allowed_files_are_served_with_our_content_type(
    psa, tenant, server, filename, content, content_type, served_as
):
    made = upload(tenant.api, server["id"], content=content, filename=filename, content_type=content_type)
    assert made.status_code == 201, made.json
    download = tenant.api.get(f"{URL}/{server['id']}/attachments/{made.json['id']}")
    assert download.mimetype == served_as and download.data == content


def test_upload_without_a_file_field_is_refused(psa, tenant, server):
    refused = tenant.api.post(f"{URL}/{server['id']}/attachments", data={"other": "x"})
    assert refused.status_code == 422 and "file" in refused.json["errors"]
    assert tenant.api.post(f"{URL}/{server['id']}/attachments", json={"file": "x"}).status_code == 422


def test_read_only_member_can_download_but_not_attach_or_delete(psa, tenant, server):
    made = upload(tenant.api, server["id"]).json
    reader = tenant.member("read-only", all_clients=True)
    psa.settle()
    base = f"{URL}/{server['id']}/attachments"
    assert reader.api.get(f"{base}/{made['id']}").data == LICENSE
    assert upload(reader.api, server["id"]).status_code == 403
    assert reader.api.delete(f"{base}/{made['id']}").status_code == 403


def test_a_json_body_is_at_most_a_mebibyte_while_attachments_keep_their_own_limit(psa, tenant, server):
    """A JSON request has no business past 1 MiB (the largest, a member's 10,000 grants, is 0.4);
    until 2026-11-27 any route read and parsed up to 32 MiB, the attachment limit's headroom."""
    big_json = {"client_id": server["client_id"], "type": "license", "name": "x", "notes": "n" * (2 * 1024 * 1024)}
    refused = tenant.api.post(URL, json=big_json)
    assert refused.status_code == 413 and refused.content_type == "application/problem+json"
    ticket = tenant.api.post("/api/v1/tickets", json={"client_id": server["client_id"], "summary": "s" * 1_100_000})
    assert ticket.status_code == 413
    nearly = tenant.api.post(URL, json={**big_json, "notes": "n" * 1_000_000})
    assert nearly.status_code == 422 and "notes" in nearly.json["errors"]  # read, then refused by its field
    kept = upload(tenant.api, server["id"], content=b"x" * (3 * 1024 * 1024), filename="backup.bak")
    assert kept.status_code == 201, kept.json


def test_an_attachment_limit_past_the_old_32_mebibytes_is_honoured(psa, tenant, server, monkeypatch):
    from psa_shared.config import Settings

    monkeypatch.setenv("PSA_VAULT_MAX_ATTACHMENT_BYTES", str(40 * 1024 * 1024))
    psa.settings = Settings.from_env()
    psa.rebuild()
    api = psa.http.as_token(tenant.token)
    assert upload(api, server["id"], content=b"x" * (33 * 1024 * 1024), filename="image.bak").status_code == 201
