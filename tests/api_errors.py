"""The error contract of API.md section 1, checked one way for the integration tests."""


def assert_error(reply, status, code, field=None):
    """reply is (status, headers, body) of a request: status, a JSON body
    {"error": {"code", "message" (non-empty), "field"?}} with that code, and field when given."""
    got, headers, body = reply
    assert got == status, reply
    assert headers.get("content-type", "").startswith("application/json"), reply
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), reply
    assert body["error"].get("code") == code, reply
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], reply
    if field is not None:
        assert body["error"].get("field") == field, reply
