"""db_read: the slow-read lane (searches and reports) reads from a replica's address when one is
configured (the cluster's HAProxy replica port); everything else stays on the primary. Here the
"replica" is a second database of the test cluster with different rows, so that where each read
went shows."""
import pytest


@pytest.fixture(scope="module")
def replica(pg, make_server):
    """A server on its own database, standing in for the replica: it holds two cases that the
    primary does not have."""
    s = make_server(pg)
    for text in ("只在副本上的工单", "副本上的第二件"):
        status, _, body = s.request("POST", "/v1/cases", {"text": text}, s.admin_token,
                                    headers={"Idempotency-Key": "replica-%d" % len(text)})
        assert status == 201, body
    return s


def texts(listing):
    return [c["text"] for c in listing["items"]]


def test_searches_and_reports_read_the_replica_the_rest_the_primary(pg, make_server, replica):
    s = make_server(pg, db_read=pg.app_conninfo(replica.db))
    status, _, created = s.request("POST", "/v1/cases", {"text": "主库上的新工单"}, s.admin_token,
                                   headers={"Idempotency-Key": "primary-1"})
    assert status == 201, created
    status, _, listing = s.request("GET", "/v1/cases?q=%E5%B7%A5%E5%8D%95", token=s.admin_token)
    assert status == 200, listing
    assert texts(listing) == ["只在副本上的工单"]  # q=工单: the replica's, not the primary's
    # a page without a search, a single case, everything that decides a write: the primary
    status, _, listing = s.request("GET", "/v1/cases", token=s.admin_token)
    assert (status, texts(listing)) == (200, ["主库上的新工单"])
    status, _, case = s.request("GET", "/v1/cases/%d" % created["id"], token=s.admin_token)
    assert (status, case["text"]) == (200, "主库上的新工单")
    status, _, overdue = s.request("GET", "/v1/reports/overdue", token=s.admin_token)
    assert status == 200, overdue
    status, _, rates = s.request("GET", "/v1/reports/rates?from=2020-01-01&to=2100-01-01",
                                 token=s.admin_token)
    assert status == 200, rates
    assert rates["total"]["received"] == 2  # the replica's two cases, not the primary's one


def test_a_replica_that_cannot_be_reached_leaves_the_reads_to_the_primary(pg, make_server,
                                                                          free_port):
    s = make_server(pg, db_read="host=127.0.0.1 port=%d dbname=x user=x connect_timeout=1"
                    % free_port())
    status, _, created = s.request("POST", "/v1/cases", {"text": "副本不在"}, s.admin_token,
                                   headers={"Idempotency-Key": "no-replica"})
    assert status == 201, created
    status, _, listing = s.request("GET", "/v1/cases?q=%E5%89%AF%E6%9C%AC", token=s.admin_token)
    assert status == 200, listing
    assert texts(listing) == ["副本不在"]  # q=副本, answered from the primary
    status, _, overdue = s.request("GET", "/v1/reports/overdue", token=s.admin_token)
    assert status == 200, overdue
