"""Time limits (docs/API.md section 4): the SLA policy and working-day calendar API
(GET/PUT /v1/sla, GET/PUT /v1/calendar/{year}) with its validation and role checks, and the
deadlines a case gets on create, dispatch, re-dispatch, reopen and an approved extension,
checked to the second against a calendar model computed here, independently of the server.

Tests that change the policy or a calendar run on their own server and database (the `sla`
fixture), so the shared server keeps the shipped defaults."""
import datetime as dt
import re
import time

import pytest

from api_errors import assert_error

TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991

DEFAULT_POLICY = {
    "rules": [{"type": "*", "urgent": True, "sign": "30m", "contact": "2h", "finish": "24h"},
              {"type": "consult", "urgent": False, "sign": "1wd", "contact": "1wd", "finish": "2wd"},
              {"type": "help", "urgent": False, "sign": "1wd", "contact": "1wd", "finish": "5wd"},
              {"type": "*", "urgent": False, "sign": "1wd", "contact": "2wd", "finish": "10wd"}],
    "rectify": "5wd", "warn_at": 0.75, "review": False}

# The official 2026 schedule that migration 004 ships.
HOLIDAYS_2026 = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17",
                 "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
                 "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03",
                 "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25",
                 "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
                 "2026-10-05", "2026-10-06", "2026-10-07"]
WORKDAYS_2026 = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]


# --- an independent model of API.md section 4 ---------------------------------------------------

class Calendar:
    """Working days: Monday to Friday, minus holidays, plus make-up workdays."""

    def __init__(self, holidays=(), workdays=()):
        self.holidays = {dt.date.fromisoformat(d) for d in holidays}
        self.workdays = {dt.date.fromisoformat(d) for d in workdays}

    def is_workday(self, day):
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() < 5

    def add(self, start, duration):
        """The end of a clock started at `start` (aware datetime) lasting `duration`."""
        amount, unit = re.fullmatch(r"([1-9][0-9]*)(s|m|h|wd)", duration).groups()
        amount = int(amount)
        if unit != "wd":
            return start + dt.timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600}[unit])
        return self.end_of_workday(start.astimezone(TZ).date(), amount)

    def end_of_workday(self, day, n):
        """23:59:59 of the n-th working day after `day`."""
        while n > 0:
            day += dt.timedelta(days=1)
            n -= self.is_workday(day)
        return dt.datetime.combine(day, dt.time(23, 59, 59), TZ)


def ts(text):
    """An RFC 3339 time stamp of the API as an aware datetime; checks its shape first."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", text), text
    return dt.datetime.fromisoformat(text)


def pick(policy, case_type, urgent):
    return next(r for r in policy["rules"] if r["type"] in ("*", case_type) and r["urgent"] == urgent)


def assert_clock(got, start, duration, cal):
    """A deadline from the server against the model. Working-day limits must match to the
    second. Calendar-time limits may differ by one second: the server reads its own clock for
    the deadline while the database stamps the event time, and both are cut to whole seconds."""
    want = cal.add(start, duration)
    if duration.endswith("wd"):
        assert ts(got) == want, "%s from %s: got %s, want %s" % (duration, start, got, want)
    else:
        assert abs((ts(got) - want).total_seconds()) <= 1, \
            "%s from %s: got %s, want %s" % (duration, start, got, want)


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sla(pg, make_server):
    """A server of this module alone: its policy and calendars may change."""
    return make_server(pg)


def put_policy(server, policy):
    status, _, body = server.request("PUT", "/v1/sla", policy, token=server.admin_token)
    assert status == 200, body
    return body


def put_calendar(server, year, holidays, workdays):
    body = {"holidays": holidays, "workdays": workdays}
    status, _, reply = server.request("PUT", "/v1/calendar/%d" % year, body, token=server.admin_token)
    assert status == 200, reply
    return reply


# --- GET /v1/sla, PUT /v1/sla -------------------------------------------------------------------

@pytest.mark.smoke
def test_default_policy_is_the_shipped_one(server):
    status, headers, body = server.request("GET", "/v1/sla", token=server.admin_token)
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    assert body == DEFAULT_POLICY


@pytest.mark.parametrize("role, status", [("manager", 200), ("operator", 403), ("department", 403)])
def test_who_reads_the_policy(server, role, status):
    reply = server.request("GET", "/v1/sla", token=server.make_user(role))
    assert reply[0] == status, reply
    if status == 403:
        assert_error(reply, 403, "forbidden")


@pytest.mark.parametrize("role", ["manager", "operator", "department"])
def test_only_admin_changes_the_policy(server, role):
    assert_error(server.request("PUT", "/v1/sla", DEFAULT_POLICY, token=server.make_user(role)),
                 403, "forbidden")
    assert_error(server.request("PUT", "/v1/calendar/2026", {"holidays": []},
                                token=server.make_user(role)), 403, "forbidden")


def test_sla_needs_a_token(server):
    assert_error(server.request("GET", "/v1/sla"), 401, "unauthorized")
    assert_error(server.request("PUT", "/v1/sla", DEFAULT_POLICY), 401, "unauthorized")
    assert_error(server.request("GET", "/v1/calendar/2026"), 401, "unauthorized")


def with_rule(index, **change):
    policy = {"rules": [dict(r) for r in DEFAULT_POLICY["rules"]], "rectify": "5wd", "warn_at": 0.75,
              "review": False}
    policy["rules"][index].update(change)
    return policy


def without(key):
    return {k: v for k, v in DEFAULT_POLICY.items() if k != key}


@pytest.mark.parametrize("body, code, field", [
    (with_rule(1, sign="1d"), "invalid_field", "rules[1].sign"),
    (with_rule(0, finish="0wd"), "invalid_field", "rules[0].finish"),
    (with_rule(2, contact="1.5h"), "invalid_field", "rules[2].contact"),
    (with_rule(3, sign="366wd"), "invalid_field", "rules[3].sign"),
    (with_rule(1, type="complain"), "invalid_field", "rules[1].type"),
    (with_rule(0, urgent="yes"), "invalid_field", "rules[0].urgent"),
    (with_rule(2, colour="red"), "invalid_field", "rules[2].colour"),
    (dict(DEFAULT_POLICY, rectify="5 wd"), "invalid_field", "rectify"),
    (dict(DEFAULT_POLICY, warn_at=1.5), "invalid_field", "warn_at"),
    (dict(DEFAULT_POLICY, warn_at=0), "invalid_field", "warn_at"),
    (dict(DEFAULT_POLICY, extra=1), "invalid_field", "extra"),
    (without("rules"), "missing_field", "rules"),
    (without("rectify"), "missing_field", "rectify"),
    (without("warn_at"), "missing_field", "warn_at"),
    (dict(DEFAULT_POLICY, rules=[]), "invalid_field", "rules"),
    # no rule for non-urgent cases
    (dict(DEFAULT_POLICY, rules=DEFAULT_POLICY["rules"][:1]), "invalid_field", "rules"),
])
def test_policy_validation(server, body, code, field):
    assert_error(server.request("PUT", "/v1/sla", body, token=server.admin_token), 422, code, field)
    # a refused policy changes nothing
    assert server.request("GET", "/v1/sla", token=server.admin_token)[2] == DEFAULT_POLICY


@pytest.mark.parametrize("raw", ["[1]", '{"rules": ', '"policy"'])
def test_policy_that_is_not_a_json_object_is_400(server, raw):
    assert_error(server.request("PUT", "/v1/sla", raw=raw, token=server.admin_token), 400, "bad_json")


def test_policy_put_then_get_is_canonical(sla):
    policy = {"warn_at": 0.5, "rectify": "3wd", "review": True,
              "rules": [{"urgent": True, "type": "*", "sign": "45s", "contact": "30m", "finish": "8h"},
                        {"type": "*", "urgent": False, "sign": "2wd", "contact": "3wd", "finish": "15wd"}]}
    try:
        stored = put_policy(sla, policy)
        assert stored == policy
        assert list(stored) == ["rules", "rectify", "warn_at", "review"]
        assert list(stored["rules"][0]) == ["type", "urgent", "sign", "contact", "finish"]
        assert sla.request("GET", "/v1/sla", token=sla.admin_token)[2] == policy
        manager = sla.make_user("manager")
        assert sla.request("GET", "/v1/sla", token=manager)[2] == policy
    finally:
        put_policy(sla, DEFAULT_POLICY)
    assert sla.request("GET", "/v1/sla", token=sla.admin_token)[2] == DEFAULT_POLICY


def test_policy_changes_are_kept_in_history(sla, pg):
    before = int(pg.psql("SELECT version FROM sla_policy", db=sla.db))
    put_policy(sla, with_rule(1, finish="3wd"))
    put_policy(sla, DEFAULT_POLICY)
    assert int(pg.psql("SELECT version FROM sla_policy", db=sla.db)) == before + 2
    assert pg.psql("SELECT count(*) FROM sla_policy_history WHERE version > %d" % before, db=sla.db) == "2"


# --- GET /v1/calendar/{year}, PUT /v1/calendar/{year} ---------------------------------------------

@pytest.mark.smoke
def test_shipped_calendar_2026(server):
    status, _, body = server.request("GET", "/v1/calendar/2026", token=server.admin_token)
    assert status == 200, body
    assert body == {"holidays": HOLIDAYS_2026, "workdays": WORKDAYS_2026}


def test_manager_reads_a_calendar_but_operator_does_not(server):
    assert server.request("GET", "/v1/calendar/2026", token=server.make_user("manager"))[0] == 200
    assert_error(server.request("GET", "/v1/calendar/2026", token=server.make_user("operator")),
                 403, "forbidden")


def test_year_without_calendar_has_empty_lists(server):
    status, _, body = server.request("GET", "/v1/calendar/2040", token=server.admin_token)
    assert (status, body) == (200, {"holidays": [], "workdays": []})


@pytest.mark.parametrize("year", ["abc", "20x6", "-2026", "2026.0", "%202026"])
def test_year_must_be_a_number(server, year):
    assert_error(server.request("GET", "/v1/calendar/" + year, token=server.admin_token),
                 400, "bad_request")
    assert_error(server.request("PUT", "/v1/calendar/" + year, {}, token=server.admin_token),
                 400, "bad_request")


def test_year_out_of_range(server):
    assert_error(server.request("GET", "/v1/calendar/1969", token=server.admin_token), 400, "bad_request")
    assert_error(server.request("PUT", "/v1/calendar/10000", {}, token=server.admin_token),
                 422, "invalid_field", "year")


@pytest.mark.parametrize("body, code, field", [
    ({"holidays": ["2027-02-30"]}, "invalid_field", "holidays[0]"),
    ({"holidays": ["2027-01-01", "2026-12-31"]}, "invalid_field", "holidays[1]"),
    ({"holidays": ["2027-1-1"]}, "invalid_field", "holidays[0]"),
    ({"holidays": [20270101]}, "invalid_field", "holidays[0]"),
    ({"holidays": ["2027-01-01", "2027-01-01"]}, "invalid_field", "holidays[1]"),
    ({"holidays": "2027-01-01"}, "invalid_field", "holidays"),
    ({"workdays": ["2027-02-06", "2028-02-06"]}, "invalid_field", "workdays[1]"),
    ({"holidays": ["2027-02-08"], "workdays": ["2027-02-06", "2027-02-08"]}, "invalid_field", "workdays[1]"),
    ({"holidays": [], "weekends": []}, "invalid_field", "weekends"),
])
def test_calendar_validation(sla, body, code, field):
    before = sla.request("GET", "/v1/calendar/2027", token=sla.admin_token)[2]
    assert_error(sla.request("PUT", "/v1/calendar/2027", body, token=sla.admin_token), 422, code, field)
    assert sla.request("GET", "/v1/calendar/2027", token=sla.admin_token)[2] == before


def test_calendar_that_is_not_a_json_object_is_400(sla):
    assert_error(sla.request("PUT", "/v1/calendar/2027", raw='["2027-01-01"]', token=sla.admin_token),
                 400, "bad_json")


def test_calendar_put_then_get_sorted(sla):
    reply = put_calendar(sla, 2029, ["2029-10-02", "2029-10-01", "2029-01-01"], ["2029-09-29"])
    assert reply == {"holidays": ["2029-01-01", "2029-10-01", "2029-10-02"], "workdays": ["2029-09-29"]}
    assert sla.request("GET", "/v1/calendar/2029", token=sla.admin_token)[2] == reply
    # an absent list is an empty one: PUT replaces the whole year
    assert put_calendar(sla, 2029, [], []) == {"holidays": [], "workdays": []}
    status, _, body = sla.request("PUT", "/v1/calendar/2029", {}, token=sla.admin_token)
    assert (status, body) == (200, {"holidays": [], "workdays": []})


# --- deadlines of cases ---------------------------------------------------------------------------

# Every kind of duration, and a rule per (type, urgent) that the tests below pick.
TEST_POLICY = {
    "rules": [{"type": "*", "urgent": True, "sign": "30m", "contact": "2h", "finish": "1wd"},
              {"type": "consult", "urgent": False, "sign": "45s", "contact": "3h", "finish": "2wd"},
              {"type": "*", "urgent": False, "sign": "1wd", "contact": "2wd", "finish": "10wd"}],
    "rectify": "3wd", "warn_at": 0.75}


@pytest.fixture(scope="module")
def holiday_week(sla):
    """Calendars for this year and the next with a holiday week from tomorrow, both weekend
    days of the week after it as make-up workdays (调休), and one more holiday after that;
    returns the model of the same calendar."""
    today = dt.datetime.now(TZ).date()
    holidays = [today + dt.timedelta(days=i) for i in range(1, 8)]
    workdays = [d for d in (today + dt.timedelta(days=i) for i in range(8, 15)) if d.weekday() >= 5]
    holidays += [d for d in (today + dt.timedelta(days=i) for i in range(15, 22)) if d.weekday() == 2]
    for year in (today.year, today.year + 1):
        put_calendar(sla, year, [d.isoformat() for d in holidays if d.year == year],
                     [d.isoformat() for d in workdays if d.year == year])
    yield Calendar([d.isoformat() for d in holidays], [d.isoformat() for d in workdays])
    put_calendar(sla, 2026, HOLIDAYS_2026, WORKDAYS_2026)


@pytest.fixture
def policy(sla):
    """put(policy) installs a policy for this test; the default is back afterwards."""
    yield lambda p: put_policy(sla, p)
    put_policy(sla, DEFAULT_POLICY)


def create(server, case_type="complaint", urgent=False, department="urban_mgmt"):
    body = {"text": "路灯不亮 %s" % time.monotonic(), "type": case_type, "urgent": urgent}
    if department:
        body["department"] = department
    status, _, case = server.request("POST", "/v1/cases", body, token=server.admin_token)
    assert status == 201, case
    return case


def act(server, token, case, action, body=None):
    status, _, reply = server.request("POST", "/v1/cases/%d/%s" % (case["id"], action), body or {},
                                      token=token)
    assert status == 200, (action, reply)
    return reply


def assert_deadlines(case, start, rule, cal):
    for clock, limit in (("sign_by", rule["sign"]), ("contact_by", rule["contact"]),
                         ("finish_by", rule["finish"])):
        assert_clock(case["deadlines"][clock], start, limit, cal)


@pytest.mark.parametrize("case_type, urgent", [("complaint", False), ("consult", False),
                                               ("help", True), ("praise", False)])
def test_create_deadlines_follow_policy_and_calendar(sla, holiday_week, policy, case_type, urgent):
    policy(TEST_POLICY)
    case = create(sla, case_type, urgent)
    assert case["state"] == "dispatched"
    assert case["overdue"] is False
    start = ts(case["timestamps"]["dispatched_at"])
    assert_deadlines(case, start, pick(TEST_POLICY, case_type, urgent), holiday_week)
    got = sla.request("GET", "/v1/cases/%d" % case["id"], token=sla.admin_token)[2]
    assert got["deadlines"] == case["deadlines"]


def test_kinds_created_in_one_second_keep_their_own_deadlines(sla, holiday_week, policy):
    """The server keeps the deadlines it computed last for each type and urgency, by the
    second (sla_state.c): cases of every kind created back to back, most within one second,
    each get their own rule's deadlines, and the same kind again the same ones."""
    policy(TEST_POLICY)
    kinds = [("consult", False), ("consult", True), ("complaint", False), ("complaint", True),
             ("praise", False), ("consult", False), ("help", True), ("complaint", False)]
    for case_type, urgent in kinds * 2:
        case = create(sla, case_type, urgent)
        start = ts(case["timestamps"]["dispatched_at"])
        assert_deadlines(case, start, pick(TEST_POLICY, case_type, urgent), holiday_week)


def test_holiday_week_pushes_a_working_day_past_it(sla, holiday_week, policy):
    """Spelled out for one case: 1wd from today is the first make-up day or working day after
    the holiday week, whichever comes first, never a day inside it."""
    policy(TEST_POLICY)
    case = create(sla)
    sign_by = ts(case["deadlines"]["sign_by"])
    today = ts(case["timestamps"]["dispatched_at"]).date()
    assert sign_by.time() == dt.time(23, 59, 59)
    assert sign_by.date() >= today + dt.timedelta(days=8)
    first = today + dt.timedelta(days=8)
    while not (first.weekday() < 5 or first in holiday_week.workdays):
        first += dt.timedelta(days=1)
    assert sign_by.date() == first


def test_pending_case_has_no_deadlines_until_dispatched(sla, holiday_week, policy):
    policy(TEST_POLICY)
    body = {"text": "咨询公积金提取", "type": "consult", "answer": "已电话答复"}
    status, _, case = sla.request("POST", "/v1/cases", body, token=sla.admin_token)
    assert status == 201, case
    assert case["deadlines"] == {"sign_by": None, "contact_by": None, "finish_by": None}
    assert case["overdue"] is False


def test_redispatch_after_return_restarts_the_clocks(sla, holiday_week, policy):
    policy(TEST_POLICY)
    dept = sla.make_user("department")
    operator = sla.make_user("operator")
    case = create(sla, "consult")
    first = case["deadlines"]
    returned = act(sla, dept, case, "return", {"reason": "不属于本单位职责"})
    assert returned["state"] == "pending"
    time.sleep(2.1)  # so that the 45 s sign clock of the new dispatch ends later
    again = act(sla, operator, case, "dispatch", {"department": "urban_mgmt"})
    assert again["state"] == "dispatched"
    start = ts(again["timestamps"]["dispatched_at"])
    assert start > ts(case["timestamps"]["dispatched_at"])
    assert_deadlines(again, start, pick(TEST_POLICY, "consult", False), holiday_week)
    assert ts(again["deadlines"]["sign_by"]) > ts(first["sign_by"])


def test_reopen_gets_the_rectification_limit(sla, holiday_week, policy):
    policy(TEST_POLICY)
    dept = sla.make_user("department")
    operator = sla.make_user("operator")
    case = create(sla)
    act(sla, dept, case, "sign")
    act(sla, dept, case, "reply", {"text": "已修复", "resolved": True})
    reopened = act(sla, operator, case, "visit", {"score": 1, "resolved": False, "comment": "还是不亮"})
    assert reopened["state"] == "reopened"
    visited = ts(reopened["timestamps"]["visited_at"])
    assert_clock(reopened["deadlines"]["finish_by"], visited, TEST_POLICY["rectify"], holiday_week)
    # sign and contact keep the clocks of the dispatch
    assert reopened["deadlines"]["sign_by"] == case["deadlines"]["sign_by"]


def test_approved_extension_moves_finish_by_by_working_days(sla, holiday_week, policy):
    policy(TEST_POLICY)
    dept = sla.make_user("department")
    manager = sla.make_user("manager")
    case = create(sla)
    act(sla, dept, case, "sign")
    act(sla, dept, case, "extend", {"workdays": 4, "reason": "需协调供电公司"})
    rejected = act(sla, manager, case, "extension/reject", {"reason": "理由不足"})
    assert rejected["deadlines"]["finish_by"] == case["deadlines"]["finish_by"]
    act(sla, dept, case, "extend", {"workdays": 4, "reason": "需协调供电公司"})
    approved = act(sla, manager, case, "extension/approve", {})
    want = holiday_week.end_of_workday(ts(case["deadlines"]["finish_by"]).date(), 4)
    assert ts(approved["deadlines"]["finish_by"]) == want
    assert approved["deadlines"]["sign_by"] == case["deadlines"]["sign_by"]


def test_two_second_limit_turns_overdue(sla, policy):
    policy({"rules": [{"type": "*", "urgent": True, "sign": "2s", "contact": "2s", "finish": "2s"},
                      {"type": "*", "urgent": False, "sign": "2s", "contact": "1h", "finish": "2h"}],
            "rectify": "1wd", "warn_at": 0.5})
    case = create(sla)
    assert case["overdue"] is False
    time.sleep(3)
    got = sla.request("GET", "/v1/cases/%d" % case["id"], token=sla.admin_token)[2]
    assert got["overdue"] is True
    listed = sla.request("GET", "/v1/cases?overdue=true&limit=500", token=sla.admin_token)[2]
    assert case["id"] in [c["id"] for c in listed["items"]]
    # signing stops the only clock that ran out
    signed = act(sla, sla.make_user("department"), case, "sign")
    assert signed["overdue"] is False


def test_policy_change_applies_to_the_next_case_at_once(sla, holiday_week, policy):
    for finish in ("3wd", "7wd", "4wd"):
        changed = dict(TEST_POLICY, rules=[dict(r) for r in TEST_POLICY["rules"]])
        changed["rules"][2]["finish"] = finish
        policy(changed)
        case = create(sla)
        assert_clock(case["deadlines"]["finish_by"], ts(case["timestamps"]["dispatched_at"]), finish,
                     holiday_week)


def test_another_server_picks_up_a_policy_change(sla, pg, make_server, holiday_week, policy):
    other = make_server(pg, sla.db)
    changed = dict(TEST_POLICY, rules=[dict(r) for r in TEST_POLICY["rules"]])
    changed["rules"][2]["finish"] = "6wd"
    policy(changed)
    deadline = time.monotonic() + 10
    while True:
        case = create(other)
        want = holiday_week.add(ts(case["timestamps"]["dispatched_at"]), "6wd")
        if ts(case["deadlines"]["finish_by"]) == want:
            break
        assert time.monotonic() < deadline, "the other server still uses the old policy"
        time.sleep(0.5)
