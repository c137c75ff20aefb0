#!/usr/bin/python3
"""Writes the bad-input corpus: malformed and hostile HTTP requests, one raw file each.

    /usr/bin/python3 tests/corpus/generate.py      (rewrites tests/corpus/requests/ and manifest.tsv)

Each request is stored byte for byte as it goes on the wire, with two placeholders that the runner
(tests/integration/test_abuse.py) fills in: {{TOKEN}} (a valid admin token) and {{HOST}}. Every
request asks for `Connection: close` so that the answer ends with the connection.

manifest.tsv has one line per file: name, expected status, expected error code, expected field,
and what the request tries. The status is a number, `4xx` (any client error with the contract's
error JSON), or `wire` (malformed HTTP that libevent's parser refuses before the server sees a
request: a 4xx of libevent's own, or the connection closed; the runner half-closes these after
sending, as a client that gave up would). `-` means "any". No request in the corpus is
acceptable: none may be answered 2xx, and none 5xx except 501, which libevent 2.1 itself sends
for methods it does not know (RFC 9110 recommends it; the server never sees those requests).
"""
import json
import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "requests"
MANIFEST = HERE / "manifest.tsv"

VALID_CASE = {"text": "小区门口占道摆摊，影响通行", "district": "驿城区"}
MAX_BODY = 65536      # the server's default max_body
MAX_HEADERS = 16384   # the server's default max_headers

entries = []


def request(method, path, body=None, headers=None, token=True, content_type="application/json",
            version="HTTP/1.1", content_length=True):
    """One request as bytes. body: bytes or str (sent as it is) or None."""
    if isinstance(body, str):
        body = body.encode()
    lines = ["%s %s %s" % (method, path, version) if version else "%s %s" % (method, path),
             "Host: {{HOST}}", "Connection: close"]
    if token is True:
        lines.append("Authorization: Bearer {{TOKEN}}")
    elif token is not None:
        lines.append(token)
    if body is not None and content_type is not None:
        lines.append("Content-Type: " + content_type)
    if body is not None and content_length:
        lines.append("Content-Length: %d" % len(body))
    head = ("\r\n".join(lines + list(headers or [])) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    return head + (body or b"")


def add(name, data, status, code="-", field="-", what=""):
    assert not any(e[0] == name for e in entries), name
    assert isinstance(data, bytes)
    entries.append((name, data, str(status), code, field, what))


def with_fields(base, **fields):
    """base (a dict) as JSON text with some fields replaced (a value None removes the field)."""
    body = dict(base)
    for k, v in fields.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return json.dumps(body, ensure_ascii=False)


def case_body(**fields):
    """The valid case with some fields replaced (a value None removes the field)."""
    return with_fields(VALID_CASE, **fields)


def post_case(body, **kw):
    return request("POST", "/v1/cases", body, **kw)


# --- broken JSON ------------------------------------------------------------------------------

def broken_json():
    bodies = {
        "truncated-object": '{"text": "x"',
        "truncated-value": '{"text": ',
        "open-brace": "{",
        "truncated-key": '{"text"',
        "unterminated-string": '{"text": "x}',
        "whitespace-only": "   \r\n\t ",
        "trailing-word": '{"text": "x"} x',
        "two-objects": '{"text": "x"}{"text": "y"}',
        "trailing-comma-after": '{"text": "x"},',
        "array-top": '[{"text": "x"}]',
        "empty-array": "[]",
        "string-top": '"text"',
        "number-top": "1",
        "null-top": "null",
        "true-top": "true",
        "unquoted-keys": "{text: \"x\"}",
        "single-quotes": "{'text': '小区门口占道摆摊'}",
        "single-quoted-value": "{\"text\": 'x'}",
        "single-quoted-key": "{'text': \"小区门口占道摆摊\"}",
        "trailing-comma": '{"text": "x",}',
        "missing-colon": '{"text" "x"}',
        "double-colon": '{"text":: "x"}',
        "leading-comma": '{,"text": "x"}',
        "two-values": '{"text": "x" "y"}',
        "undefined": '{"text": undefined}',
        "nan": '{"text": "x", "lat": NaN, "lon": 1}',
        "infinity": '{"text": "x", "lat": Infinity, "lon": 1}',
        "minus-infinity": '{"text": "x", "lat": -Infinity, "lon": 1}',
        "bare-dot-end": '{"text": "x", "lat": 1., "lon": 1}',
        "bare-dot-start": '{"text": "x", "lat": .5, "lon": 1}',
        "leading-zero": '{"text": "x", "lat": 01, "lon": 1}',
        "double-zero": '{"text": "x", "lat": 00, "lon": 1}',
        "plus-sign": '{"text": "x", "lat": +1, "lon": 1}',
        "hex-number": '{"text": "x", "lat": 0x10, "lon": 1}',
        "empty-exponent": '{"text": "x", "lat": 1e, "lon": 1}',
        "signed-empty-exponent": '{"text": "x", "lat": 1e+, "lon": 1}',
        "double-minus": '{"text": "x", "lat": --1, "lon": 1}',
        "block-comment": '{"text": "x" /* c */}',
        "line-comment": '{"text": "x"} // c',
        "bad-escape": '{"text": "x\\q"}',
        "short-unicode-escape": '{"text": "\\u12"}',
        "bad-unicode-escape": '{"text": "\\u12G4"}',
        "hex-escape": '{"text": "\\x41"}',
        "raw-tab-in-string": '{"text": "a\tb"}',
        "raw-newline-in-string": '{"text": "a\nb"}',
        "raw-control-in-string": '{"text": "a\x01b"}',
        "raw-escape-char-in-key": '{"te\x1bxt": "x"}',
        "raw-unit-separator": '{"text": "\x1f"}',
        "form-feed-after": '{"text": "x"}\x0c',
        "vertical-tab-before": '\x0b{"text": "x"}',
        "misspelled-true": '{"text": "x", "urgent": tru}',
        "capital-true": '{"text": "x", "urgent": True}',
        "nil": '{"text": nil}',
        "unclosed-array": '{"text": "x", "caller": [}',
        "mismatched-brackets": '{"text": "x"]',
        "bom": "\ufeff" + '{"text": "x"}',
    }
    for name, body in bodies.items():
        add("json-" + name, post_case(body.encode("utf-8")), 400, "bad_json",
            what="POST /v1/cases with a body that is not one strict JSON object: " + name)


# --- nesting and numbers ----------------------------------------------------------------------

def nesting_and_numbers():
    def nest(depth):
        # depth counts objects, the outer one included: {"text":"x","caller":{"x":{"x":...}}}
        inner = "1"
        for _ in range(depth - 2):
            inner = '{"x": %s}' % inner
        return '{"text": "x", "caller": %s}' % inner

    add("deep-17", post_case(nest(17)), 400, "bad_json", what="17 nested objects (limit 16)")
    add("deep-64", post_case(nest(64)), 400, "bad_json", what="64 nested objects")
    add("deep-arrays-30000", post_case('{"text": ' + "[" * 30000 + "]" * 30000 + "}"), 400,
        "bad_json", what="30000 nested arrays")
    add("deep-open-only", post_case('{"text": ' + "[" * 60000), 400, "bad_json",
        what="60000 opening brackets, never closed")
    add("deep-15-unknown", post_case(nest(15)), 422, "invalid_field", "caller.x",
        what="15 nested objects: parsed, then refused as an unknown field")
    numbers = {
        "lat-1e999": ("lat", '1e999'),
        "lat-minus-1e400": ("lat", "-1e400"),
        "lat-30-digits": ("lat", "123456789012345678901234567890"),
        "lat-20000-digits": ("lat", "9" * 20000),
        "lat-2pow64": ("lat", "18446744073709551616"),
        "lat-huge-fraction": ("lat", "1." + "1" * 5000 + "e300"),
        "lon-minus-2pow63": ("lon", "-9223372036854775809"),
        "lon-1e308x10": ("lon", "1e309"),
    }
    for name, (field, num) in numbers.items():
        other = "lon" if field == "lat" else "lat"
        body = '{"text": "x", "%s": %s, "%s": 1}' % (field, num, other)
        add("number-" + name, post_case(body), 422, "invalid_field", field,
            what="a number out of range or beyond double precision in " + field)
    add("number-urgent-1e999", post_case('{"text": "x", "urgent": 1e999}'), 422, "invalid_field",
        "urgent", what="a huge number where a boolean belongs")
    add("number-text-int", post_case('{"text": 99999999999999999999999}'), 422, "invalid_field",
        "text", what="a huge integer where text belongs")


# --- NUL bytes and UTF-8 ----------------------------------------------------------------------

def nul_and_utf8():
    add("nul-raw-in-string", post_case(b'{"text": "a\x00b"}'), 400, "bad_json",
        what="a raw NUL byte inside a string")
    add("nul-raw-after", post_case(b'{"text": "x"}\x00'), 400, "bad_json",
        what="a raw NUL byte after the object")
    add("nul-only", post_case(b"\x00"), 400, "bad_json", what="a body of one NUL byte")
    add("nul-many", post_case(b"\x00" * 4096), 400, "bad_json", what="4096 NUL bytes")
    add("nul-escaped-in-text", post_case('{"text": "a\\u0000b"}'), 422, "invalid_field", "text",
        what="an escaped NUL inside text")
    add("nul-escaped-in-name", post_case('{"text": "x", "caller": {"name": "\\u0000"}}'), 422,
        "invalid_field", "caller.name", what="an escaped NUL as the caller's name")
    add("nul-escaped-in-key", post_case('{"text": "x", "te\\u0000xt": "y"}'), 400,
        "bad_json", what="an escaped NUL inside a key (json-c would cut the key there)")
    bad = {
        "lone-continuation": b"\x80",
        "overlong-slash": b"\xc0\xaf",
        "overlong-nul": b"\xc0\x80",
        "overlong-3byte": b"\xe0\x80\xaf",
        "overlong-4byte": b"\xf0\x80\x80\xaf",
        "surrogate-high": b"\xed\xa0\x80",
        "surrogate-low": b"\xed\xbf\xbf",
        "surrogate-pair-cesu": b"\xed\xa0\xbd\xed\xb8\x80",
        "above-10ffff": b"\xf4\x90\x80\x80",
        "f5-lead": b"\xf5\x80\x80\x80",
        "five-byte": b"\xf8\x88\x80\x80\x80",
        "six-byte": b"\xfc\x84\x80\x80\x80\x80",
        "truncated-chinese": b"\xe4\xb8",
        "truncated-at-end": b"\xe4",
        "ff-fe": b"\xff\xfe",
        "latin1": b"caf\xe9",
        "gbk": "小区门口占道".encode("gbk"),
    }
    for name, seq in bad.items():
        add("utf8-text-" + name, post_case(b'{"text": "' + seq + b'"}'), 400, "bad_json",
            what="invalid UTF-8 in a string value: " + name)
    for name in ("overlong-slash", "surrogate-high", "latin1", "gbk"):
        add("utf8-key-" + name, post_case(b'{"text": "x", "' + bad[name] + b'": 1}'), 400,
            "bad_json", what="invalid UTF-8 in a key: " + name)
    add("utf8-outside-string", post_case(b'{"text": "x"}\xe4\xb8\xad'), 400, "bad_json",
        what="a UTF-8 character after the object")


# --- wrong types for every field ---------------------------------------------------------------

def wrong_types():
    strings = ["channel", "type", "category", "title", "text", "district", "address", "department",
               "answer"]
    wrong_for_string = {"int": 1, "float": 1.5, "true": True, "array": ["x"], "object": {"x": 1},
                        "empty-array": []}
    for field in strings:
        for tname, value in wrong_for_string.items():
            add("type-%s-%s" % (field, tname), post_case(case_body(**{field: value})), 422,
                "invalid_field", field, what="%s as %s" % (field, tname))
    for tname, value in {"string": "true", "int": 1, "zero": 0, "array": [True], "object": {},
                         "yes": "yes"}.items():
        add("type-urgent-" + tname, post_case(case_body(urgent=value)), 422, "invalid_field",
            "urgent", what="urgent as " + tname)
    for field in ("lat", "lon"):
        for tname, value in {"string": "32.98", "true": True, "array": [32.98],
                             "object": {"v": 1}}.items():
            other = {"lon": 114.02} if field == "lat" else {"lat": 32.98}
            add("type-%s-%s" % (field, tname), post_case(case_body(**{field: value}, **other)), 422,
                "invalid_field", field, what="%s as %s" % (field, tname))
    for tname, value in {"string": "张先生", "array": [], "int": 1, "true": True}.items():
        add("type-caller-" + tname, post_case(case_body(caller=value)), 422, "invalid_field",
            "caller", what="caller as " + tname)
    for sub, values in (("name", {"int": 1, "array": ["张"], "object": {}}),
                        ("phone", {"int": 13800000000, "float": 1.38e10, "array": ["138"]}),
                        ("confidential", {"string": "false", "int": 0, "null-string": "null"})):
        for tname, value in values.items():
            add("type-caller-%s-%s" % (sub, tname), post_case(case_body(caller={sub: value})), 422,
                "invalid_field", "caller." + sub, what="caller.%s as %s" % (sub, tname))


# --- values out of range, unknown fields ------------------------------------------------------

def bad_values():
    v = {
        "channel-unknown": ({"channel": "fax"}, "invalid_field", "channel"),
        "channel-upper": ({"channel": "PHONE"}, "invalid_field", "channel"),
        "channel-padded": ({"channel": "phone "}, "invalid_field", "channel"),
        "type-unknown": ({"type": "bug"}, "invalid_field", "type"),
        "type-empty": ({"type": ""}, "invalid_field", "type"),
        "text-empty": ({"text": ""}, "invalid_field", "text"),
        "text-4001-chinese": ({"text": "中" * 4001}, "invalid_field", "text"),
        "text-4001-ascii": ({"text": "a" * 4001}, "invalid_field", "text"),
        "text-4001-emoji": ({"text": "😀" * 4001}, "invalid_field", "text"),
        "title-201": ({"title": "题" * 201}, "invalid_field", "title"),
        "district-51": ({"district": "区" * 51}, "invalid_field", "district"),
        "address-201": ({"address": "路" * 201}, "invalid_field", "address"),
        "caller-name-51": ({"caller": {"name": "名" * 51}}, "invalid_field", "caller.name"),
        "phone-letters": ({"caller": {"phone": "138-0000-abcd"}}, "invalid_field", "caller.phone"),
        "phone-21": ({"caller": {"phone": "1" * 21}}, "invalid_field", "caller.phone"),
        "phone-fullwidth": ({"caller": {"phone": "１３８００"}}, "invalid_field", "caller.phone"),
        "phone-space": ({"caller": {"phone": "138 0000"}}, "invalid_field", "caller.phone"),
        "lat-above": ({"lat": 90.0001, "lon": 1}, "invalid_field", "lat"),
        "lat-below": ({"lat": -91, "lon": 1}, "invalid_field", "lat"),
        "lon-above": ({"lat": 1, "lon": 180.5}, "invalid_field", "lon"),
        "lon-below": ({"lat": 1, "lon": -1000}, "invalid_field", "lon"),
        "lat-without-lon": ({"lat": 32.98}, "missing_field", "lon"),
        "lon-without-lat": ({"lon": 114.02}, "missing_field", "lat"),
        "category-upper": ({"category": "Urban_Mgmt.03"}, "invalid_field", "category"),
        "category-empty": ({"category": ""}, "invalid_field", "category"),
        "category-48": ({"category": "a" * 48}, "invalid_field", "category"),
        "department-traversal": ({"department": "../../etc/passwd"}, "invalid_field", "department"),
        "department-empty": ({"department": ""}, "invalid_field", "department"),
        "department-chinese": ({"department": "城管"}, "invalid_field", "department"),
        "answer-and-department": ({"answer": "已答复", "department": "urban_mgmt"},
                                  "invalid_field", "answer"),
        "answer-empty": ({"answer": ""}, "invalid_field", "answer"),
        "text-missing": ({"text": None}, "missing_field", "text"),
        "unknown-id": ({"id": 5}, "invalid_field", "id"),
        "unknown-state": ({"state": "closed"}, "invalid_field", "state"),
        "unknown-version": ({"version": 1}, "invalid_field", "version"),
        "unknown-proto": ({"__proto__": {"admin": True}}, "invalid_field", "__proto__"),
        "unknown-caller-id": ({"caller": {"id": 1}}, "invalid_field", "caller.id"),
        "unknown-empty-key": ({"": "x"}, "invalid_field", ""),
    }
    for name, (fields, code, field) in v.items():
        add("value-" + name, post_case(case_body(**fields)), 422, code, field or "-",
            what="a value the contract refuses: " + name)
    add("value-text-null", post_case('{"text": null}'), 422, "missing_field", "text",
        what="text null counts as absent")
    add("value-empty-body", post_case(""), 422, "missing_field", "text",
        what="an empty body is {}: text missing")
    add("value-empty-object", post_case("{}"), 422, "missing_field", "text", what="{}")
    long_key = "键" * 30 + "a"
    add("value-long-unknown-key", post_case(case_body(**{long_key: 1})), 422, "invalid_field",
        what="an unknown key of 91 bytes: the error must stay valid UTF-8 when cut short")
    add("value-long-unknown-key-2byte", post_case(case_body(**{"é" * 40: 1})), 422,
        "invalid_field", what="an unknown key of two-byte characters, cut short in the error")
    add("value-long-unknown-key-caller", post_case(case_body(caller={"a" + "名" * 40: 1})), 422,
        "invalid_field", what="an unknown caller key, cut short in the error")


# --- SQL and shell metacharacters --------------------------------------------------------------

def metacharacters():
    in_body = {
        "category-sql": {"category": "x'; DROP TABLE cases; --"},
        "department-sql": {"department": "urban_mgmt' OR '1'='1"},
        "department-shell": {"department": "$(reboot)"},
        "department-backticks": {"department": "`id`"},
        "department-semicolon": {"department": "urban_mgmt;rm -rf /"},
        "channel-sql": {"channel": "phone' OR '1'='1"},
        "type-shell": {"type": "complaint; ls"},
        "key-sql": {"text'); DROP TABLE cases; --": "x"},
        "key-shell": {"$(touch /tmp/pwned)": "x"},
        "phone-sql": {"caller": {"phone": "1' OR 1=1--"}},
    }
    for name, fields in in_body.items():
        add("meta-" + name, post_case(case_body(**fields)), 422, "invalid_field",
            what="SQL or shell metacharacters where a code or enum belongs: " + name)
    queries = {
        "state-sql": ("/v1/cases?state=dispatched'%20OR%201=1--", "state"),
        "limit-sql": ("/v1/cases?limit=1;DROP%20TABLE%20cases", "limit"),
        "urgent-sql": ("/v1/cases?urgent=true'--", "urgent"),
        "from-sql": ("/v1/cases?from=2026-01-01'%20OR%20'1'='1", "from"),
        "type-shell": ("/v1/cases?type=$(reboot)", "type"),
        "channel-pipe": ("/v1/cases?channel=phone|id", "channel"),
    }
    for name, (path, field) in queries.items():
        add("meta-query-" + name, request("GET", path), 400, "bad_request", field,
            what="metacharacters in a query parameter")
    add("meta-path-sql", request("GET", "/v1/cases/1;DROP%20TABLE%20cases"), 400, "bad_request",
        what="SQL in the path id")
    add("meta-path-shell", request("GET", "/v1/cases/$(reboot)"), 400, "bad_request",
        what="shell in the path id")
    add("meta-user-role-sql",
        request("POST", "/v1/users", json.dumps({"name": "x", "role": "admin' OR '1'='1"})), 422,
        "invalid_field", "role", what="SQL in a user's role")
    add("meta-user-department-sql",
        request("POST", "/v1/users", json.dumps(
            {"name": "x", "role": "department", "department": "x'); DROP TABLE users; --"})), 422,
        "invalid_field", "department", what="SQL in a user's department")


# --- duplicate keys ----------------------------------------------------------------------------

def duplicate_keys():
    dups = {
        "text": '{"text": "x", "text": "y"}',
        "text-types": '{"text": "x", "text": 1}',
        "urgent": '{"text": "x", "urgent": false, "urgent": true}',
        "caller-name": '{"text": "x", "caller": {"name": "a", "name": "b"}}',
        "department": '{"text": "x", "department": "urban_mgmt", "department": "telecom"}',
        "escaped": '{"text": "x", "\\u0074ext": "y"}',
    }
    for name, body in dups.items():
        add("dup-" + name, post_case(body), 400, "bad_json",
            what="a key given twice: which one counts is parser-dependent, so refuse it")


# --- headers, methods and HTTP framing ----------------------------------------------------------

def headers_and_framing():
    big = "X-Filler: " + "a" * MAX_HEADERS
    add("header-one-huge", request("GET", "/v1/me", headers=[big]), "wire",
        what="one header line over max_headers")
    add("header-many", request("GET", "/v1/me", headers=["X-H%d: %s" % (i, "v" * 20)
                                                         for i in range(1000)]), "wire",
        what="1000 headers, together over max_headers")
    add("header-long-request-line", request("GET", "/v1/me?x=" + "a" * (MAX_HEADERS + 10)), "wire",
        what="a request line over max_headers")
    add("header-no-colon", request("GET", "/v1/me", headers=["NoColonHere"]), "wire",
        what="a header line without a colon")
    add("header-bare-lf", b"GET /v1/me HTTP/1.1\nHost: {{HOST}}\nConnection: close\n\n", 401,
        "unauthorized", what="LF without CR as the line end (tolerated), no token")
    add("header-space-before-colon", request("GET", "/v1/me", token=None,
                                             headers=["Authorization : Bearer {{TOKEN}}"]),
        "4xx", what="a space before the colon must not authenticate")
    add("method-nul", request("G\x00ET", "/v1/me"), "wire", what="a NUL byte in the method")
    for name, m in {"foo": "FOO", "lowercase-get": "get", "tab": "GET\t",
                    "propfind": "PROPFIND"}.items():
        add("method-unknown-" + name, request(m, "/v1/me"), 501,
            what="an unknown method %r: libevent 2.1 answers 501 itself (RFC 9110 15.6.2)" % m)
    for m, path in (("PATCH", "/v1/cases"), ("PUT", "/v1/cases"), ("DELETE", "/v1/cases/1"),
                    ("OPTIONS", "/v1/cases"), ("TRACE", "/v1/me"), ("PUT", "/v1/me"),
                    ("POST", "/healthz"), ("DELETE", "/v1/inbox")):
        add("method-%s-%s" % (m.lower(), path.strip("/").replace("/", "-")),
            request(m, path, "{}" if m in ("PUT", "PATCH", "POST") else None), 405,
            "method_not_allowed", what="%s on a known path" % m)
    versions = {"http-2": "HTTP/2.0", "http-9": "HTTP/9.9", "lowercase": "http/1.1",
                "garbage": "HTXP/1.1", "none": None}
    for name, version in versions.items():
        add("version-" + name, request("GET", "/v1/me", token=None, version=version), "wire",
            what="request line with HTTP version %r" % version)
    add("version-h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "wire",
        what="the HTTP/2 connection preface")
    add("line-double-space", b"GET  /v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "wire",
        what="two spaces in the request line")
    add("line-tls-hello", bytes.fromhex("16030100a5010000a103035f") + b"\x00" * 64, "wire",
        what="a TLS ClientHello on the plain port")
    add("line-binary", bytes(range(256)) + b"\r\n\r\n", "wire", what="every byte value")
    add("absolute-uri", request("GET", "http://evil.example/v1/me", token=None), 401,
        "unauthorized", what="an absolute URI: the path counts, and still needs a token")
    add("expect-100", post_case("{bad", headers=["Expect: 100-continue"]), 400, "bad_json",
        what="Expect: 100-continue with a broken body")
    add("no-host", b"GET /v1/me HTTP/1.1\r\nConnection: close\r\n\r\n", "4xx",
        what="HTTP/1.1 without Host")


# --- content length, chunking, content type ----------------------------------------------------

def bodies_and_framing():
    add("length-negative", post_case("{}", content_length=False, headers=["Content-Length: -1"]),
        "wire", what="Content-Length: -1")
    add("length-word", post_case("{}", content_length=False, headers=["Content-Length: abc"]),
        "wire", what="Content-Length: abc")
    add("length-huge", post_case("{}", content_length=False,
                                 headers=["Content-Length: 1000000000000"]), "wire",
        what="a declared length far over the limit")
    add("length-over-limit", post_case('{"text": "' + "a" * (MAX_BODY + 100) + '"}'), 413,
        "too_large", what="a body just over max_body, sent whole")
    add("length-twice-differing",
        post_case("{bad}", content_length=False, headers=["Content-Length: 5", "Content-Length: 3"]),
        "4xx", what="two different Content-Length headers")
    chunked = b"5\r\n{bad}\r\n0\r\n\r\n"
    add("chunked-bad-json", post_case(chunked, content_length=False,
                                      headers=["Transfer-Encoding: chunked"]), 400, "bad_json",
        what="a chunked body that is not JSON")
    add("chunked-bad-size", post_case(b"zz\r\n{}\r\n0\r\n\r\n", content_length=False,
                                      headers=["Transfer-Encoding: chunked"]), "wire",
        what="a chunk size that is not hex")
    add("chunked-and-length", post_case(chunked, content_length=False,
                                        headers=["Transfer-Encoding: chunked",
                                                 "Content-Length: 3"]), "wire",
        what="Transfer-Encoding and Content-Length together (smuggling shape)")
    big = ('{"text": "' + "a" * (MAX_BODY * 3) + '"}').encode()
    parts = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 4096]), big[i:i + 4096])
                     for i in range(0, len(big), 4096))
    add("chunked-over-twice-limit", post_case(parts + b"0\r\n\r\n", content_length=False,
                                              headers=["Transfer-Encoding: chunked"]), "wire",
        what="a chunked body three times the limit")
    for name, ctype in {"text-plain": "text/plain", "form": "application/x-www-form-urlencoded",
                        "jsonx": "application/jsonx", "json-patch": "application/json-patch+json",
                        "multipart": "multipart/form-data; boundary=x", "bare-json": "json",
                        "empty": ""}.items():
        add("ctype-" + name, post_case(case_body(), content_type=ctype), 415,
            "unsupported_media_type", what="a valid case body as Content-Type %r" % ctype)
    add("ctype-missing", post_case(case_body(), content_type=None), 415, "unsupported_media_type",
        what="a valid case body without Content-Type")


# --- paths and percent-encoding ------------------------------------------------------------------

def paths():
    not_found = ["/v1/../v1/me", "/../../etc/passwd", "/v1/cases/1/../../../etc/passwd",
                 "/v1/%2e%2e/v1/me", "/v1/me%00", "/v1/me;x=1", "/V1/ME", "/v1/%6de",
                 "/v1/./me", "/v1/cases/1/2/3/4/5/6/7/8", "/" * 3000 + "v1/me",
                 "/v1/" + "a" * 600, "/%00", "/v1/cases/1/events/x", "/v1/inbox/1",
                 "/v1/cases/1/nope", "/.env", "/.git/config", "/v1/cases/1/%2e%2e/2"]
    for i, path in enumerate(not_found):
        add("path-404-%02d" % i, request("GET", path), 404, "not_found", what="GET " + path[:80])
    bad_id = ["0", "-1", "1e3", "0x1", "99999999999999999999", "+1", "%201", "%31", "1%00",
              "..%2f..%2fetc%2fpasswd", "%2e%2e", "1.0", "abc", "1abc", "%EF%BC%91"]
    for i, seg in enumerate(bad_id):
        add("path-id-%02d" % i, request("GET", "/v1/cases/" + seg), 400, "bad_request",
            what="GET /v1/cases/%s: the id must be a positive integer" % seg)
    add("path-raw-utf8", request("GET", "/v1/cases/中"), "4xx", what="raw UTF-8 in the path")
    add("path-raw-space", request("GET", "/v1/cases/1 2"), "wire", what="a raw space in the path")
    queries = {"limit-zero": "limit=0", "limit-501": "limit=501", "limit-word": "limit=abc",
               "limit-nul": "limit=1%00", "limit-bad-percent": "limit=%zz",
               "limit-negative": "limit=-1", "limit-huge": "limit=99999999999999999999",
               "urgent-yes": "urgent=yes", "overdue-maybe": "overdue=maybe",
               "from-month-13": "from=2026-13-01", "to-feb-30": "to=2026-02-30",
               "from-word": "from=yesterday", "state-bogus": "state=bogus",
               "state-bad-utf8": "state=%ff%fe", "after-garbage": "after=garbage",
               "type-upper": "type=COMPLAINT", "channel-unknown": "channel=fax"}
    for name, q in queries.items():
        add("query-" + name, request("GET", "/v1/cases?" + q), 400, "bad_request",
            q.split("=")[0], what="GET /v1/cases?" + q)


# --- bogus Authorization -------------------------------------------------------------------------

def authorization():
    values = {
        "empty": "Authorization: ",
        "scheme-only": "Authorization: Bearer",
        "scheme-space": "Authorization: Bearer ",
        "scheme-spaces": "Authorization: Bearer    ",
        "basic": "Authorization: Basic dXNlcjpwYXNz",
        "digest": 'Authorization: Digest username="admin", realm="x"',
        "long": "Authorization: Bearer " + "A" * 8000,
        "token-suffix": "Authorization: Bearer {{TOKEN}}x",
        "token-prefix": "Authorization: Bearer x{{TOKEN}}",
        "token-and-word": "Authorization: Bearer {{TOKEN}} extra",
        "token-comma": "Authorization: Bearer {{TOKEN}},Bearer x",
        "sql": "Authorization: Bearer '; DROP TABLE tokens; --",
        "sql-or": "Authorization: Bearer ' OR '1'='1",
        "traversal": "Authorization: Bearer ../../etc/passwd",
        "chinese": "Authorization: Bearer 令牌令牌令牌令牌令牌令牌令牌令牌",
        "percent-nul": "Authorization: Bearer %00",
        "null": "Authorization: Bearer null",
        "token-scheme": "Authorization: Token {{TOKEN}}",
        "no-scheme": "Authorization: {{TOKEN}}",
        "tab": "Authorization: Bearer\t{{TOKEN}}",
        "bearer-bearer": "Authorization: Bearer Bearer {{TOKEN}}",
        "hex-hash": "Authorization: Bearer \\x" + "0" * 64,
        "jwt": "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ.",
    }
    for name, header in values.items():
        add("auth-" + name, request("GET", "/v1/me", token=header), 401, "unauthorized",
            what="GET /v1/me with " + header[:60])
    add("auth-missing", request("GET", "/v1/me", token=None), 401, "unauthorized",
        what="GET /v1/me without Authorization")
    add("auth-bogus-then-valid", request("GET", "/v1/me", token="Authorization: Bearer bogus",
                                         headers=["Authorization: Bearer {{TOKEN}}"]), 401,
        "unauthorized", what="two Authorization headers, the first bogus")
    add("auth-post-case-bogus", post_case(case_body(), token="Authorization: Bearer bogus"), 401,
        "unauthorized", what="a valid case with a bogus token creates nothing")
    add("auth-list-sql", request("GET", "/v1/cases", token="Authorization: Bearer ' OR 1=1 --"), 401,
        "unauthorized", what="SQL as the token on the case list")


# --- Idempotency-Key ----------------------------------------------------------------------------

def idempotency_keys():
    keys = {"256-chars": "k" * 256, "empty": "", "del-char": "key\x7f", "utf8": "键值",
            "tab-inside": "a\tb", "latin1": "caf\xe9", "nul-percent": "%00" + "\x01"}
    for name, key in keys.items():
        add("idem-" + name, post_case(case_body(), headers=["Idempotency-Key: " + key]), 400,
            "bad_request", "Idempotency-Key",
            what="a valid case with an Idempotency-Key that is not 1-255 printable ASCII: " + name)


# --- routing rules (admin) ----------------------------------------------------------------------

def rules():
    base = {"name": "摆摊", "department": "urban_mgmt", "match": {"any": ["摆摊"]}}

    def rule(**fields):
        body = json.loads(json.dumps(base))
        for k, v in fields.items():
            if v is None:
                body.pop(k, None)
            else:
                body[k] = v
        return json.dumps(body, ensure_ascii=False)

    def match(**lists):
        return rule(match=dict(base["match"], **lists))

    cases = {
        "name-missing": (rule(name=None), "missing_field", "name"),
        "department-missing": (rule(department=None), "missing_field", "department"),
        "match-missing": (rule(match=None), "missing_field", "match"),
        "name-empty": (rule(name=""), "invalid_field", "name"),
        "name-101": (rule(name="规" * 101), "invalid_field", "name"),
        "name-number": (rule(name=17), "invalid_field", "name"),
        "priority-negative": (rule(priority=-1), "invalid_field", "priority"),
        "priority-huge": (rule(priority=10 ** 30), "invalid_field", "priority"),
        "priority-float": (rule(priority=1.5), "invalid_field", "priority"),
        "priority-string": (rule(priority="1"), "invalid_field", "priority"),
        "enabled-string": (rule(enabled="yes"), "invalid_field", "enabled"),
        "department-sql": (rule(department="urban_mgmt'; DROP TABLE rules; --"), "invalid_field",
                           "department"),
        "department-upper": (rule(department="URBAN"), "invalid_field", "department"),
        "match-array": (rule(match=["摆摊"]), "invalid_field", "match"),
        "match-unknown": (match(colour=["red"]), "invalid_field", "match.colour"),
        "any-string": (match(any="摆摊"), "invalid_field", "match.any"),
        "any-number-item": (match(any=[1]), "invalid_field", "match.any"),
        "any-blank": (match(any=["   "]), "invalid_field", "match.any"),
        "any-empty-item": (match(any=[""]), "invalid_field", "match.any"),
        "any-51": (match(any=["词" * 51]), "invalid_field", "match.any"),
        "any-201-items": (match(any=["词%d" % i for i in range(201)]), "invalid_field", "match.any"),
        "none-null-item": (match(none=[None]), "invalid_field", "match.none"),
        "types-unknown": (match(types=["noise"]), "invalid_field", "match.types"),
        "channels-unknown": (match(channels=["fax"]), "invalid_field", "match.channels"),
        "districts-51": (match(districts=["区" * 51]), "invalid_field", "match.districts"),
        "unknown-top": (rule(colour="red"), "invalid_field", "colour"),
    }
    for name, (body, code, field) in cases.items():
        add("rule-" + name, request("POST", "/v1/rules", body), 422, code, field,
            what="POST /v1/rules refused: " + name)
    add("rule-unknown-match-key-cut", request("POST", "/v1/rules", match(**{"a" + "é" * 40: []})),
        422, "invalid_field", what="an unknown match key, cut short in the error: valid UTF-8")
    add("rule-unknown-key-cut", request("POST", "/v1/rules", rule(**{"a" + "é" * 40: 1})), 422,
        "invalid_field", what="an unknown rule key, cut short in the error: valid UTF-8")
    add("rule-bad-json", request("POST", "/v1/rules", "{'name': 'x'}"), 400, "bad_json",
        what="POST /v1/rules with single quotes")
    add("rule-put-bad-id", request("PUT", "/v1/rules/abc", rule()), 400, "bad_request",
        what="PUT /v1/rules/abc")
    add("route-dry-run-bad", request("POST", "/v1/route", '{"text": ""}'), 422, "invalid_field",
        "text", what="POST /v1/route with an empty text")


# --- intake aids: tracking, callers, similar cases, knowledge base (API.md 13-15) ----------------

def intake_aids():
    article = {"title": "停电报修", "body": "请拨打95598", "tags": ["停电"]}

    def art(**fields):
        return with_fields(article, **fields)

    for name, path in (("malformed-number", "/v1/track/abc?code=123456"),
                       ("short-number", "/v1/track/20261128-00004?code=123456"),
                       ("sql-number", "/v1/track/20261128-000042'--?code=123456"),
                       ("unknown-number", "/v1/track/20991231-999999?code=123456"),
                       ("letters-code", "/v1/track/20991231-999998?code=abcdef"),
                       ("long-code", "/v1/track/20991231-999997?code=" + "1" * 500),
                       ("no-code", "/v1/track/20991231-999996")):
        add("track-" + name, request("GET", path, token=None), 404, "not_found",
            what="GET %s: the same 404 for any wrong number or code" % path.split("?")[0])
    for name, path in (("letters", "/v1/callers/138abc"), ("21-digits", "/v1/callers/" + "1" * 21),
                       ("space", "/v1/callers/138%2000"), ("sql", "/v1/callers/1'%20OR%201=1"),
                       ("nul", "/v1/callers/138%00")):
        add("caller-phone-" + name, request("GET", path), 400, "bad_request", "phone",
            what="GET %s: a phone is digits, + and - only" % path)
    add("caller-flag-admin", request("PUT", "/v1/callers/13800000000/flag", '{"kind": "repeat"}'), 403,
        "forbidden", what="PUT a caller flag as admin: managers only")
    add("caller-flag-delete-admin", request("DELETE", "/v1/callers/13800000000/flag"), 403, "forbidden",
        what="DELETE a caller flag as admin: managers only")
    for name, body, code, field in (("empty", "{}", "missing_field", "text"),
                                    ("text-empty", '{"text": ""}', "invalid_field", "text"),
                                    ("text-4001", json.dumps({"text": "字" * 4001}), "invalid_field", "text"),
                                    ("unknown", '{"text": "x", "colour": 1}', "invalid_field", "colour"),
                                    ("district-51", json.dumps({"text": "x", "district": "区" * 51}),
                                     "invalid_field", "district")):
        add("similar-" + name, request("POST", "/v1/cases/similar", body), 422, code, field,
            what="POST /v1/cases/similar refused: " + name)
    add("similar-bad-json", request("POST", "/v1/cases/similar", "{'text': 'x'}"), 400, "bad_json",
        what="POST /v1/cases/similar with single quotes")
    for name, body, code, field in (
            ("title-missing", art(title=None), "missing_field", "title"),
            ("body-missing", art(body=None), "missing_field", "body"),
            ("title-empty", art(title=""), "invalid_field", "title"),
            ("title-201", art(title="题" * 201), "invalid_field", "title"),
            ("body-20001", art(body="文" * 20001), "invalid_field", "body"),
            ("tags-string", art(tags="停电"), "invalid_field", "tags"),
            ("tags-21", art(tags=["t%d" % i for i in range(21)]), "invalid_field", "tags"),
            ("tag-51", art(tags=["签" * 51]), "invalid_field", "tags"),
            ("tag-number", art(tags=[1]), "invalid_field", "tags"),
            ("department-upper", art(department="POWER"), "invalid_field", "department"),
            ("department-unknown", art(department="no_such_department"), "invalid_field", "department"),
            ("enabled-string", art(enabled="yes"), "invalid_field", "enabled"),
            ("version-given", art(version=3), "invalid_field", "version"),
            ("unknown", art(colour="red"), "invalid_field", "colour")):
        add("kb-" + name, request("POST", "/v1/kb", body), 422, code, field, what="POST /v1/kb refused: " + name)
    add("kb-put-empty", request("PUT", "/v1/kb/1", "{}"), 422, "missing_field", "title",
        what="PUT /v1/kb/1 with nothing to change")
    add("kb-put-bad-if-match", request("PUT", "/v1/kb/1", art(), headers=["If-Match: v1"]), 400, "bad_request",
        "If-Match", what="PUT /v1/kb/1 with an If-Match that is no version")
    add("kb-put-stale", request("PUT", "/v1/kb/1", '{"title": "x"}', headers=["If-Match: 999"]), 409,
        "version_conflict", what="PUT /v1/kb/1 with a stale If-Match")
    add("kb-put-unknown", request("PUT", "/v1/kb/987654321", '{"title": "x"}'), 404, "not_found",
        what="PUT an unknown article")
    add("kb-delete-stale", request("DELETE", "/v1/kb/1", headers=["If-Match: 999"]), 409, "version_conflict",
        what="DELETE /v1/kb/1 with a stale If-Match")
    add("kb-get-bad-id", request("GET", "/v1/kb/abc"), 400, "bad_request", what="GET /v1/kb/abc")
    for name, query, field in (("q-empty", "q=", "q"), ("q-200", "q=" + "%E5%81%9C" * 200, "q"),
                               ("q-blank", "q=%20%20", "q"), ("q-bad-utf8", "q=%FF%FE", "q"),
                               ("limit-0", "limit=0", "limit"), ("limit-101", "limit=101", "limit"),
                               ("limit-word", "limit=ten", "limit"), ("department-bad", "department=Bad%21", "department")):
        add("kb-search-" + name, request("GET", "/v1/kb?" + query), 400, "bad_request", field,
            what="GET /v1/kb?%s refused" % query)
    add("case-kb-without-answer", post_case(case_body(kb=1)), 422, "invalid_field", "kb",
        what="POST /v1/cases with kb but no answer")
    add("case-kb-unknown", post_case(case_body(answer="已答复", kb=987654321)), 422, "invalid_field", "kb",
        what="POST /v1/cases with kb naming no article")
    add("case-kb-string", post_case(case_body(answer="已答复", kb="1")), 422, "invalid_field", "kb",
        what="POST /v1/cases with kb as a string")
    add("case-kb-zero", post_case(case_body(answer="已答复", kb=0)), 422, "invalid_field", "kb",
        what="POST /v1/cases with kb 0")


def write():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for name, data, *_ in entries:
        (OUT / (name + ".http")).write_bytes(data)
    with open(MANIFEST, "w", encoding="utf-8") as f:
        f.write("# name\tstatus\tcode\tfield\twhat (written by generate.py: do not edit)\n")
        for name, _, status, code, field, what in entries:
            f.write("\t".join((name, status, code, field, what.replace("\t", " "))) + "\n")
    print("%d requests in %s" % (len(entries), os.path.relpath(OUT)))


if __name__ == "__main__":
    broken_json()
    nesting_and_numbers()
    nul_and_utf8()
    wrong_types()
    bad_values()
    metacharacters()
    duplicate_keys()
    headers_and_framing()
    bodies_and_framing()
    paths()
    authorization()
    idempotency_keys()
    rules()
    intake_aids()
    write()
