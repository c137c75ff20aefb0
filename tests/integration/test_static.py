"""The web console's files (API.md section 19): GET / redirects to /app/, files come with their
content type, an ETag and a Content-Security-Policy that forbids inline scripts; nothing
outside web/ can be reached and no directory is listed."""
import pytest

from api_errors import assert_error
from test_foundation import raw_http


def test_root_redirects_to_the_console(server):
    status, headers, _ = server.request("GET", "/")
    assert status == 302 and headers["location"] == "/app/"
    status, headers, _ = server.request("GET", "/app")
    assert status == 302 and headers["location"] == "/app/"


def test_the_console_page(server):
    status, headers, body = server.request("GET", "/app/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    assert 'lang="zh-CN"' in body and "<script>" not in body  # no inline script
    assert server.request("GET", "/app/index.html")[2] == body


@pytest.mark.parametrize("path,ctype", [
    ("/app/js/app.js", "text/javascript; charset=utf-8"),
    ("/app/css/app.css", "text/css; charset=utf-8"),
    ("/app/vendor/echarts/echarts.min.js", "text/javascript; charset=utf-8"),
    ("/favicon.ico", "image/png"),
])
def test_content_types(server, path, ctype):
    status, headers, _ = server.request("GET", path)
    assert status == 200 and headers["content-type"] == ctype
    assert "content-security-policy" in headers


def test_etag_revalidation(server):
    _, headers, _ = server.request("GET", "/app/js/app.js")
    status, again, body = server.request("GET", "/app/js/app.js", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == ""
    assert server.request("GET", "/app/js/app.js", headers={"If-None-Match": '"other"'})[0] == 200


def test_head_and_other_methods(server):
    status, headers, body = server.request("HEAD", "/app/")
    assert status == 200 and body == "" and headers["content-type"].startswith("text/html")
    assert_error(server.request("POST", "/app/", {}), 405, "method_not_allowed")


@pytest.mark.parametrize("path", [
    "/app/../sql/001_foundation.sql", "/app/%2e%2e/", "/app/%2e%2e/sql/001_foundation.sql",
    "/app/..%2fsql%2f001_foundation.sql", "/app/js/../../sql/001_foundation.sql", "/app/%2E%2E/README.md",
    "/app/./index.html", "/app//index.html", "/app/js/", "/app/vendor/", "/app/nothing.html",
    "/app/js/app.js%00.html", "/app/%5c..%5cREADME.md", "/app/.git/config", "/app/../../../../etc/passwd",
])
def test_nothing_outside_web_and_no_listing(server, path):
    # sent exactly as written: http.client and curl would normalize the dots
    status, body = raw_http(server.port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    assert status == 404, (path, body)
    assert "CREATE TABLE" not in body and "root:" not in body and "app.js" not in body


def test_routes_list_what_the_server_answers(server):
    status, _, reply = server.request("GET", "/v1/routes", token=server.admin_token)
    assert status == 200
    assert {"POST /v1/login", "GET /v1/stream", "POST /v1/cases", "GET /v1/routes"} <= set(reply["items"])
    assert_error(server.request("GET", "/v1/routes"), 401, "unauthorized")
