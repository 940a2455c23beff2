"""A request body past `MAX_BODY_BYTES` (1 MiB) is a 413 that says what the limit is, whether the
client announced its length or sent it in chunks (no Content-Length, as a streaming client does)."""

import io

import pytest

from psa_shared.web import MAX_BODY_BYTES

from .test_http_hunt import is_problem

TOO_LONG = b'{"name": "Acme", "notes": "' + b"x" * MAX_BODY_BYTES + b'"}'


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_past_one_mebibyte_is_a_413_naming_the_limit(tenant, chunked):
    if chunked:  # as gunicorn and werkzeug's server pass a chunked body on: no length, ended by them
        sent = {"input_stream": io.BytesIO(TOO_LONG), "environ_overrides": {"wsgi.input_terminated": True},
                "headers": {"Transfer-Encoding": "chunked"}}  # fmt: skip
    else:
        sent = {"data": TOO_LONG}
    response = tenant.api.post("/api/v1/clients", content_type="application/json", **sent)
    assert is_problem(response, 413)
    assert response.json["detail"] == "a request body may hold up to 1 MiB (1048576 bytes)"
    assert tenant.api.get("/api/v1/clients").json["items"] == []
