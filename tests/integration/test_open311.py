"""Open311 GeoReport v2 (docs/API.md section 7), as a 311 client sees it: the six endpoints in
both formats, every JSON answer validated against the GeoReport v2 JSON Schemas in
open311_schema/ and every XML answer parsed with xml.etree and compared with its JSON twin;
form decoding; every bad input of the issue answered in the errors format with nothing
created; the GET filters and their limits; privacy; and a request filed through Open311 that
is routed, handled, visited and then shows closed with its notes.

The module runs its own server on a fresh database, so listings hold only its requests."""
import datetime
import json
import pathlib
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import jsonschema
import pytest

SCHEMA_DIR = pathlib.Path(__file__).with_name("open311_schema")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")
REQUEST_KEYS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_KEYS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def schema(name):
    return json.loads((SCHEMA_DIR / name).read_text())


def validate(doc, name, many=False):
    s = schema(name)
    if many:
        s = {"type": "array", "items": s}
    jsonschema.Draft7Validator(s, format_checker=jsonschema.FormatChecker()).validate(doc)


def xml_records(root, item):
    """[{child tag: text or None}] of root's <item> children, keys in document order."""
    out = []
    for el in root:
        assert el.tag == item, ET.tostring(root)
        out.append({c.tag: c.text for c in el})
    return out


def as_xml_text(v):
    """How a JSON value reads in the XML twin."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Client:
    """A GeoReport client of one server: get/post answer (status, headers, document), the
    document JSON-decoded or an ElementTree root."""

    def __init__(self, server):
        self.s = server

    def get(self, path, fmt, query=None):
        url = "/open311/v2/%s.%s" % (path, fmt)
        if query:
            url += "?" + (query if isinstance(query, str) else urlencode(query))
        return self._parse(fmt, self.s.request("GET", url))

    def post(self, fmt, form, headers=FORM, path="requests"):
        raw = form if isinstance(form, (str, bytes)) else urlencode(form)
        return self._parse(fmt, self.s.request("POST", "/open311/v2/%s.%s" % (path, fmt), raw=raw,
                                               headers=headers))

    @staticmethod
    def _parse(fmt, reply):
        status, headers, body = reply
        if fmt == "xml":
            assert headers["content-type"] == "text/xml; charset=utf-8", reply
            assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>'), reply
            return status, headers, ET.fromstring(body.encode())
        assert headers["content-type"] == "application/json; charset=utf-8", reply
        return status, headers, body


def assert_errors(reply, status, fmt):
    """The errors format of section 7 with this status, in either encoding."""
    got, _, doc = reply
    assert got == status, reply
    if fmt == "json":
        validate(doc, "errors.json")
        assert doc[0]["code"] == status, doc
    else:
        assert doc.tag == "errors", ET.tostring(doc)
        errs = xml_records(doc, "error")
        assert len(errs) == 1 and errs[0]["code"] == str(status) and errs[0]["description"], errs
        assert list(errs[0]) == ["code", "description"]


@pytest.fixture(scope="module")
def world(pg, make_server):
    s = make_server(pg)
    w = Client(s)
    w.op = s.make_user("operator")
    w.dept = s.make_user("department", "urban_mgmt")
    w.mgr = s.make_user("manager")
    return w


def case_count(w):
    return int(w.s.cluster.psql("SELECT count(*) FROM cases", db=w.s.db))


def v1_case(w, number):
    """The /v1 case of a service_request_id (the case number)."""
    status, _, page = w.s.request("GET", "/v1/cases?channel=open311&limit=500", token=w.mgr)
    assert status == 200, page
    found = [c for c in page["items"] if c["number"] == number]
    assert len(found) == 1, (number, page)
    return found[0]


def file_request(w, fmt="json", **extra):
    form = {"api_key": w.op, "service_code": "urban_mgmt.01", "lat": "32.98", "long": "114.02",
            "description": "小区门口占道摆摊，影响通行"}
    form.update(extra)
    status, _, doc = w.post(fmt, form)
    assert status == 200, (status, doc if fmt == "json" else ET.tostring(doc))
    if fmt == "json":
        validate(doc, "request_created.json", many=True)
        assert len(doc) == 1 and doc[0]["account_id"] is None, doc
        return doc[0]["service_request_id"]
    rec = xml_records(doc, "request")
    assert doc.tag == "service_requests" and len(rec) == 1, ET.tostring(doc)
    assert list(rec[0]) == ["service_request_id", "service_notice", "account_id"] and rec[0]["account_id"] is None
    return rec[0]["service_request_id"]


# --- discovery and services -------------------------------------------------------------------

def test_discovery_with_a_trailing_slash_says_what_it_sends(world):
    """/open311/discovery.xml/ (a trailing slash) is routed to the discovery document, whose name
    says XML, but every other answer takes its format from the whole path (JSON unless it ends in
    .xml): the discovery went out as XML labelled application/json (found by fuzz_http). Now the
    same rule for all."""
    for path in ("/open311/discovery.xml/", "/open311/v2/discovery.xml/"):
        status, headers, doc = world.s.request("GET", path)
        assert status == 200 and headers["content-type"].startswith("application/json"), (path, headers)
        assert isinstance(doc, dict) and doc["endpoints"][0]["type"] == "production", (path, doc)


def test_discovery_in_both_formats(world):
    status, _, doc = world.get("discovery", "json")
    assert status == 200
    validate(doc, "discovery.json")
    ep = doc["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["type"] == "production" and ep["formats"] == ["text/xml", "application/json"]
    assert ep["url"] == "http://127.0.0.1:%d/open311/v2" % world.s.port
    status, _, root = world.get("discovery", "xml")
    assert status == 200 and root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    for key in ("changeset", "contact", "key_service"):
        assert root.findtext(key) == doc[key]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == ep["specification"]
    assert endpoint.findtext("url") == ep["url"] and endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == ep["formats"]
    # also one level up, where clients look for it first
    assert world.s.request("GET", "/open311/discovery.json")[2] == doc
    assert_errors(world._parse("xml", world.s.request("GET", "/open311/services.xml")), 404, "xml")


def test_services_are_the_enabled_categories(world):
    status, _, services = world.get("services", "json")
    assert status == 200
    validate(services, "service.json", many=True)
    _, _, cats = world.s.request("GET", "/v1/categories", token=world.mgr)
    _, _, depts = world.s.request("GET", "/v1/departments", token=world.mgr)
    cats = cats["items"] if isinstance(cats, dict) else cats
    depts = {d["code"]: d["name"] for d in (depts["items"] if isinstance(depts, dict) else depts)}
    enabled = {c["code"]: c for c in cats if c["enabled"]}
    assert {s["service_code"] for s in services} == set(enabled)
    for s in services:
        assert list(s) == SERVICE_KEYS, s
        c = enabled[s["service_code"]]
        assert s["service_name"] == c["name"] and s["group"] == depts[c["department"]], s
        assert s["metadata"] is False and s["type"] == "realtime" and s["description"] and s["keywords"], s
    status, _, root = world.get("services", "xml")
    assert status == 200 and root.tag == "services"
    assert xml_records(root, "service") == [{k: as_xml_text(v) for k, v in s.items()} for s in services]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition(world, fmt):
    status, _, doc = world.get("services/urban_mgmt.05", fmt)
    assert status == 200
    if fmt == "json":
        validate(doc, "service_definition.json")
        assert doc == {"service_code": "urban_mgmt.05", "attributes": []}
    else:
        assert doc.tag == "service_definition" and [c.tag for c in doc] == ["service_code", "attributes"]
        assert doc.findtext("service_code") == "urban_mgmt.05" and len(doc.find("attributes")) == 0
    assert_errors(world.get("services/urban_mgmt.99", fmt), 404, fmt)
    assert_errors(world.get("services/nothing", fmt), 404, fmt)
    assert_errors(world.get("services/%E4%B8%AD%FF", fmt), 404, fmt)


def test_disabled_category_is_no_service(pg, make_server):
    """A category an admin disables leaves the list, its definition is 404 and filing in it 404."""
    s = make_server(pg)
    w = Client(s)
    op = s.make_user("operator")
    status, _, body = s.request("PUT", "/v1/categories/housing.03", {"enabled": False}, token=s.admin_token)
    assert status == 200, body
    _, _, services = w.get("services", "json")
    assert "housing.03" not in {x["service_code"] for x in services} and len(services) > 10
    assert_errors(w.get("services/housing.03", "xml"), 404, "xml")
    before = case_count(w)
    assert_errors(w.post("json", {"api_key": op, "service_code": "housing.03", "address_string": "x",
                                  "description": "d"}), 404, "json")
    assert case_count(w) == before


# --- filing and reading a request --------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_then_get_in_both_formats(world, fmt):
    number = file_request(world, fmt, address_string="风光路与解放路交叉口", first_name="Jane",
                          last_name="Doe", phone="138-7654-3210", email="jane@example.org", device_id="dev-1",
                          account_id="acct-9", media_url="http://city.example/m/1.jpg", address_id="A-17")
    case = v1_case(world, number)
    assert case["channel"] == "open311" and case["category"] == "urban_mgmt.01"
    assert case["text"] == "小区门口占道摆摊，影响通行" and case["address"] == "风光路与解放路交叉口"
    assert case["lat"] == 32.98 and case["lon"] == 114.02
    assert case["caller"] == {"name": "Jane Doe", "phone": "138-7654-3210", "confidential": False}
    assert case["state"] == "dispatched" and case["department"] == "urban_mgmt"

    status, _, one = world.get("requests/" + number, "json")
    assert status == 200
    validate(one, "request.json", many=True)
    assert len(one) == 1 and list(one[0]) == REQUEST_KEYS, one
    r = one[0]
    assert r["service_request_id"] == number and r["status"] == "open" and r["status_notes"] is None
    assert r["service_code"] == "urban_mgmt.01" and r["service_name"] == "占道经营、流动摊贩、店外经营"
    assert r["description"] == case["text"] and r["agency_responsible"] == "市城市管理局"
    assert r["requested_datetime"] == case["created_at"] and ISO.match(r["updated_datetime"])
    assert r["expected_datetime"] == case["deadlines"]["finish_by"]
    assert r["address"] == case["address"] and r["address_id"] == "A-17" and r["zipcode"] is None
    assert (r["lat"], r["long"]) == (32.98, 114.02) and r["media_url"] == "http://city.example/m/1.jpg"
    assert r["service_notice"]

    status, _, root = world.get("requests/" + number, "xml")
    assert status == 200 and root.tag == "service_requests"
    assert xml_records(root, "request") == [{k: as_xml_text(v) for k, v in r.items()}]

    # the caller's data never shows, in either format or the list
    for f in ("json", "xml"):
        raw = world.s.request("GET", "/open311/v2/requests.%s" % f)[2]
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        for secret in ("Jane", "Doe", "7654", "jane@example.org", "dev-1", "acct-9"):
            assert secret not in text, (secret, text[:500])

    # what the case has no column for is in its create event
    status, _, events = world.s.request("GET", "/v1/cases/%d/events" % case["id"], token=world.mgr)
    create = events["items"][0]
    assert create["action"] == "create" and create["data"]["channel"] == "open311"
    assert create["data"]["open311"] == {"email": "jane@example.org", "device_id": "dev-1", "account_id": "acct-9",
                                         "media_url": "http://city.example/m/1.jpg", "address_id": "A-17"}


def test_form_decoding_and_attributes(world):
    raw = ("api_key=%s&service_code=urban_mgmt.02&address_string=%%E8%%A7%%A3%%E6%%94%%BE%%E8%%B7%%AF+1%%E5%%8F%%B7"
           "&description=a+b%%2Bc%%26d%%3De&description=a+b%%2Bc%%26d%%3De&first_name=%%E5%%BC%%A0&phone=&email="
           "&attribute[size]=big&attribute[kinds][]=glass&attribute[kinds][]=paper&attribute%%5Bnote%%5D=x+y"
           "&jurisdiction_id=city&&" % world.op)
    status, _, doc = world.post("json", raw)
    assert status == 200, doc
    case = v1_case(world, doc[0]["service_request_id"])
    assert case["text"] == "a b+c&d=e" and case["address"] == "解放路 1号"
    assert case["caller"] == {"name": "张", "phone": None, "confidential": False}
    _, _, events = world.s.request("GET", "/v1/cases/%d/events" % case["id"], token=world.mgr)
    assert events["items"][0]["data"]["open311"] == {
        "attributes": {"size": "big", "kinds": ["glass", "paper"], "note": "x y"}}


def test_api_key_in_the_url(world):
    """Some clients send api_key in the query string of the POST."""
    form = good_form(world)
    del form["api_key"]
    status, _, doc = world._parse("json", world.s.request(
        "POST", "/open311/v2/requests.json?api_key=" + world.op, raw=urlencode(form), headers=FORM))
    assert status == 200 and doc[0]["service_request_id"], doc
    before = case_count(world)
    assert_errors(world._parse("xml", world.s.request(
        "POST", "/open311/v2/requests.xml?api_key=" + world.dept, raw=urlencode(form), headers=FORM)), 403, "xml")
    assert case_count(world) == before


def test_only_open311_cases_are_listed(world):
    number = file_request(world)
    status, _, phone_case = world.s.request("POST", "/v1/cases", {"text": "电话来电", "category": "urban_mgmt.01"},
                                            token=world.op)
    assert status == 201
    status, _, listed = world.get("requests", "json")
    assert status == 200
    validate(listed, "request.json", many=True)
    numbers = [r["service_request_id"] for r in listed]
    assert number in numbers and phone_case["number"] not in numbers
    assert_errors(world.get("requests/" + phone_case["number"], "json"), 404, "json")
    assert_errors(world.get("requests/" + phone_case["number"], "xml"), 404, "xml")
    assert_errors(world.get("requests/20000101-999999", "xml"), 404, "xml")


# --- bad input: the errors format, nothing created --------------------------------------------

def good_form(w):
    return {"api_key": w.op, "service_code": "urban_mgmt.01", "address_string": "解放路",
            "description": "路灯不亮"}


BAD_POSTS = [
    # (name, change of the good form or a raw body, status)
    ("missing api_key", {"api_key": None}, 403),
    ("empty api_key", {"api_key": ""}, 403),
    ("bad api_key", {"api_key": "not-a-token-at-all-0123456789"}, 403),
    ("department's key", {"api_key": "DEPT"}, 403),
    ("manager's key", {"api_key": "MGR"}, 403),
    ("missing service_code", {"service_code": None}, 400),
    ("empty service_code", {"service_code": ""}, 400),
    ("unknown service", {"service_code": "urban_mgmt.99"}, 404),
    ("malformed service", {"service_code": "NOT A CODE"}, 404),
    ("no location", {"address_string": None}, 400),
    ("lat without long", {"lat": "32.9"}, 400),
    ("lat out of range", {"lat": "91", "long": "114"}, 400),
    ("long not a number", {"lat": "32", "long": "east"}, 400),
    ("missing description", {"description": None}, 400),
    ("empty description", {"description": ""}, 400),
    ("description over 4000 characters", {"description": "长" * 4001}, 400),
    ("two different descriptions", "DUP", 400),
    ("bad phone", {"phone": "call me"}, 400),
    ("malformed percent-encoding", "api_key=KEY&service_code=urban_mgmt.01&address_string=x&description=%E4%B8", 400),
    ("broken escape", "api_key=KEY&service_code=urban_mgmt.01&address_string=x&description=100%", 400),
    ("NUL byte", "api_key=KEY&service_code=urban_mgmt.01&address_string=x&description=a%00b", 400),
    ("bad attribute name", {"attribute[]": "x"}, 400),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("name,change,status", BAD_POSTS, ids=[b[0] for b in BAD_POSTS])
def test_bad_post_creates_nothing(world, fmt, name, change, status):
    form = good_form(world)
    if isinstance(change, dict):
        for k, v in change.items():
            v = {"DEPT": world.dept, "MGR": world.mgr}.get(v, v)
            if v is None:
                form.pop(k)
            else:
                form[k] = v
        body = urlencode(form)
    elif change == "DUP":
        body = urlencode(form) + "&description=" + quote("另一个")
    else:
        body = change.replace("KEY", world.op)
    before = case_count(world)
    assert_errors(world.post(fmt, body), status, fmt)
    assert case_count(world) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_json_body_and_wrong_methods(world, fmt):
    before = case_count(world)
    as_json = json.dumps(good_form(world))
    for ctype in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
        assert_errors(world.post(fmt, as_json, headers={"Content-Type": ctype}), 400, fmt)
        assert_errors(world.post(fmt, "  [1, 2]", headers={"Content-Type": ctype}), 400, fmt)
    assert_errors(world.post(fmt, urlencode(good_form(world)),
                             headers={"Content-Type": "multipart/form-data; boundary=x"}), 400, fmt)
    assert_errors(world.post(fmt, urlencode(good_form(world)), path="services"), 405, fmt)
    assert case_count(world) == before
    assert_errors(world.get("nothing", fmt), 404, fmt)
    assert_errors(world._parse(fmt, world.s.request("GET", "/open311/v2/requests/a/b.%s" % fmt)), 404, fmt)


def test_a_form_under_another_content_type_is_read(world):
    """Some clients' helpers label every body alike: a form is read as one."""
    for headers in ({"Content-Type": "application/json"}, {"Content-Type": "text/plain"}):
        status, _, doc = world.post("json", urlencode(good_form(world)), headers=headers)
        assert status == 200 and doc[0]["service_request_id"], doc


def test_unknown_format_is_404_in_json(world):
    status, headers, doc = world.s.request("GET", "/open311/v2/services.html")
    assert status == 404 and headers["content-type"].startswith("application/json")
    validate(doc, "errors.json")


def test_body_over_the_limit_is_an_open311_error(world):
    big = urlencode(good_form(world)) + "&media_url=" + "x" * 70000
    before = case_count(world)
    assert_errors(world.post("xml", big), 413, "xml")
    assert case_count(world) == before


def test_rate_limit_applies_to_the_api_key(pg, make_server):
    s = make_server(pg, rate_limit=2)
    w = Client(s)
    w.op = s.make_user("operator")
    replies = [w.post("xml", good_form(w)) for _ in range(12)]
    assert {r[0] for r in replies} <= {200, 429}
    limited = [r for r in replies if r[0] == 429]
    assert limited and limited[0][1].get("retry-after")
    assert_errors(limited[0], 429, "xml")
    filed = [r for r in replies if r[0] == 200]
    assert case_count(w) == len(filed)


# --- GET requests: filters and limits ----------------------------------------------------------

def test_get_filters(world):
    a = file_request(world, service_code="urban_mgmt.03")
    b = file_request(world, service_code="urban_mgmt.04")
    c = file_request(world, service_code="urban_mgmt.04")

    def numbers(query, fmt="json"):
        status, _, doc = world.get("requests", fmt, query)
        assert status == 200, doc
        if fmt == "xml":
            return [r["service_request_id"] for r in xml_records(doc, "request")]
        validate(doc, "request.json", many=True)
        return [r["service_request_id"] for r in doc]

    everything = numbers(None)
    assert everything.index(c) < everything.index(b) < everything.index(a)  # newest first
    assert numbers({"service_code": "urban_mgmt.04"}) == [c, b]
    assert numbers({"service_code": "urban_mgmt.03,urban_mgmt.04"}, "xml")[:3] == [c, b, a]
    # service_request_id overrides every other filter
    assert numbers({"service_request_id": "%s,%s" % (a, c), "service_code": "housing.01",
                    "status": "closed", "start_date": "2001-01-01T00:00:00Z"}) == [c, a]
    assert numbers({"service_request_id": a}, "xml") == [a]
    assert a in numbers({"status": "open"}) and a not in numbers({"status": "closed"})
    assert a in numbers({"status": "open,closed"})
    assert numbers("status=open&status=closed&service_code=urban_mgmt.03&service_code=urban_mgmt.04")[:3] == [c, b, a]
    now = datetime.datetime.now(datetime.timezone.utc)
    start = (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = (now + datetime.timedelta(hours=1)).astimezone(datetime.timezone(datetime.timedelta(hours=8))) \
        .strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert c in numbers({"start_date": start, "end_date": end})
    assert c in numbers({"start_date": start})
    assert c in numbers({"end_date": end})
    # an unescaped '+' arrives as a space; it is still the zone
    assert c in numbers("start_date=%s&end_date=%s" % (start, end))
    assert numbers({"end_date": start.replace("+00:00", "Z").replace(start[:4], str(now.year - 1), 1)}) == []
    old = (now - datetime.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    older = (now - datetime.timedelta(days=250)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert numbers({"start_date": older, "end_date": old}) == []


BAD_QUERIES = [
    {"start_date": "2026-11-01"},
    {"start_date": "2026-11-01T00:00:00"},
    {"end_date": "yesterday"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"},
    {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
    {"status": "pending"},
    {"service_request_id": "1;DROP"},
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("query", BAD_QUERIES, ids=[urlencode(q) for q in BAD_QUERIES])
def test_bad_filters(world, fmt, query):
    assert_errors(world.get("requests", fmt, query), 400, fmt)


def test_ninety_days_is_the_limit(world):
    status, _, doc = world.get("requests", "json", {"start_date": "2026-01-01T00:00:00+08:00",
                                                    "end_date": "2026-03-31T23:59:59+07:00"})
    assert status == 400  # 90 days and one hour apart
    status, _, doc = world.get("requests", "json", {"start_date": "2026-01-01T00:00:00+08:00",
                                                    "end_date": "2026-04-01T00:00:00+08:00"})
    assert status == 200 and doc == []


def test_at_most_1000_requests(world):
    """Open311 cases made directly in the database (fast): the list stops at 1000, newest first."""
    s = world.s
    s.cluster.psql(
        "INSERT INTO cases (number, created_at, created_by, channel, type, category, text, state) "
        "SELECT 'bulk-' || g, now() - interval '1 hour' - g * interval '1 second', 1, 'open311', 'complaint', "
        "'urban_mgmt.06', 'bulk', 'pending' FROM generate_series(1, 1005) g", db=s.db)
    status, _, doc = world.get("requests", "json", {"service_code": "urban_mgmt.06"})
    assert status == 200 and len(doc) == 1000
    assert doc[0]["service_request_id"] == "bulk-1" and doc[-1]["service_request_id"] == "bulk-1000"
    status, _, root = world.get("requests", "xml", {"service_code": "urban_mgmt.06"})
    assert len(root) == 1000


# --- end to end ----------------------------------------------------------------------------------

def test_filed_routed_handled_visited_closed(world):
    """Filed through Open311, routed to its department, signed and replied there, visited by
    an operator: Open311 then shows it closed with the reply as its notes."""
    number = file_request(world, "xml", description="解放路路灯不亮，晚上很黑", service_code="urban_mgmt.05",
                          address_string="解放路")
    case = v1_case(world, number)
    assert case["department"] == "urban_mgmt" and case["routing"]["method"] in ("rule", "category")
    _, _, r = world.get("requests/" + number, "json")
    assert r[0]["status"] == "open" and r[0]["agency_responsible"] == "市城市管理局"

    def act(action, body, token):
        status, _, out = world.s.request("POST", "/v1/cases/%d/%s" % (case["id"], action), body, token=token)
        assert status == 200, (action, out)
        return out

    act("sign", {}, world.dept)
    _, _, r = world.get("requests/" + number, "json")
    assert r[0]["status"] == "open" and r[0]["status_notes"] is None
    act("reply", {"text": "已更换灯泡，路灯恢复正常。", "resolved": True}, world.dept)
    _, _, r = world.get("requests/" + number, "json")
    assert r[0]["status"] == "open" and r[0]["status_notes"] == "已更换灯泡，路灯恢复正常。"
    closed = act("visit", {"score": 5, "resolved": True}, world.op)
    assert closed["state"] == "closed"
    for fmt in ("json", "xml"):
        status, _, doc = world.get("requests/" + number, fmt)
        assert status == 200
        rec = doc[0] if fmt == "json" else xml_records(doc, "request")[0]
        assert rec["status"] == "closed" and rec["status_notes"] == "已更换灯泡，路灯恢复正常。"
        assert rec["updated_datetime"] == closed["timestamps"]["closed_at"]
        assert rec["expected_datetime"] == closed["deadlines"]["finish_by"]
    _, _, closed_list = world.get("requests", "json", {"status": "closed"})
    assert number in [x["service_request_id"] for x in closed_list]
    _, _, open_list = world.get("requests", "xml", {"status": "open"})
    assert number not in [x["service_request_id"] for x in xml_records(open_list, "request")]


def test_merged_request_shows_closed(world):
    first = v1_case(world, file_request(world))
    second = v1_case(world, file_request(world))
    status, _, body = world.s.request("POST", "/v1/cases/%d/merge" % second["id"], {"into": first["id"]},
                                      token=world.op)
    assert status == 200, body
    _, _, r = world.get("requests/" + second["number"], "json")
    assert r[0]["status"] == "closed"


def test_returned_then_declined_request_shows_closed(world):
    """A department returns the request (pending: open, nobody responsible), an operator declines
    it (不予受理): Open311 shows it closed."""
    case = v1_case(world, file_request(world, "xml"))
    status, _, body = world.s.request("POST", "/v1/cases/%d/return" % case["id"], {"reason": "不属于本单位"},
                                      token=world.dept)
    assert status == 200 and body["state"] == "pending", body
    _, _, r = world.get("requests/" + case["number"], "json")
    assert r[0]["status"] == "open" and r[0]["agency_responsible"] is None
    status, _, body = world.s.request("POST", "/v1/cases/%d/decline" % case["id"],
                                      {"reason": "out_of_scope", "note": "不属于政务服务范围"}, token=world.op)
    assert status == 200 and body["state"] == "closed", body
    for fmt in ("json", "xml"):
        _, _, doc = world.get("requests/" + case["number"], fmt)
        rec = doc[0] if fmt == "json" else xml_records(doc, "request")[0]
        assert rec["status"] == "closed"
