"""Routing accuracy through the server (分得更准): the labelled sets of bench/routing go through
POST /v1/route on the shared server, with the shipped default rules as migration 003 stores them
and routing_state loads them. The core's own test (tests/unit/test_router.c) measures the same
sets offline; this one proves the whole path (body fields, the stored rules, the loaded router)
keeps that accuracy. Misses are listed in the failure message."""
import json
from pathlib import Path

import pytest

ROUTING = Path(__file__).resolve().parents[2] / "bench" / "routing"
CASE_FIELDS = ("title", "text", "district", "channel", "type", "urgent", "category")
MIN_ACCURACY = 0.95


def labelled(name):
    with open(ROUTING / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("name", ["routing-dev.jsonl", "extra-cases.jsonl"])
def test_default_rules_route_the_labelled_cases(server, name):
    token = server.make_user("operator")
    cases = labelled(name)
    misses, unrouted = [], 0
    for case in cases:
        body = {k: case[k] for k in CASE_FIELDS if k in case}
        status, _, got = server.request("POST", "/v1/route", body, token=token)
        assert status == 200, (case.get("id"), status, got)
        if got["department"] is None:
            unrouted += 1
        if got["department"] != case["department"]:
            misses.append("%s: %s -> %s (%s)" % (case.get("id"), case["department"], got["department"],
                                                 got["rule_name"]))
    accuracy = 1 - len(misses) / len(cases)
    assert len(cases) > 100
    assert accuracy >= MIN_ACCURACY, "%.1f%% right, %d unrouted:\n%s" % (
        accuracy * 100, unrouted, "\n".join(misses))
    assert unrouted <= len(cases) * 0.01, misses
