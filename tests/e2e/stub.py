"""A scripted HTTP server for the client's own behaviour (retries, keys, output) without the
real server: each test sets `stub.respond(request) -> (status, headers, body)` or None to hang
up without answering, then reads `stub.requests`. With tls=DIR it speaks HTTPS with DIR/server.pem
and DIR/server.key (deploy/lib.sh hl_tls_server_cert)."""
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, method, path, headers, body):
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def json(self):
        return json.loads(self.body)


class Stub:
    def __init__(self, tls=None):
        self.requests = []
        self.respond = lambda req: (200, {}, b"{}")
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, self.path, dict(self.headers), self.rfile.read(n))
                with stub.lock:
                    stub.requests.append(req)
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                    answer = stub.respond(req)
                finally:
                    with stub.lock:
                        stub.in_flight -= 1
                if answer is None:
                    self.close_connection = True
                    return
                status, headers, body = answer
                if isinstance(body, str):
                    body = body.encode()
                elif not isinstance(body, bytes):
                    body = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                headers = dict(headers)
                headers.setdefault("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain("%s/server.pem" % tls, "%s/server.key" % tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def error(status, code, message, field=None):
    e = {"code": code, "message": message}
    if field:
        e["field"] = field
    return status, {}, {"error": e}


def case(id=1, state="dispatched", **extra):
    c = {"id": id, "number": "20261128-%06d" % id, "created_at": "2026-11-28T09:30:00+08:00",
         "channel": "phone", "type": "complaint", "urgent": False, "title": "小区门口占道摆摊",
         "text": "市民来电反映", "district": "驿城区", "department": "urban_mgmt",
         "state": state, "overdue": False, "version": 1,
         "deadlines": {"sign_by": "2026-11-30T23:59:59+08:00", "contact_by": None,
                       "finish_by": "2026-12-11T23:59:59+08:00"}}
    c.update(extra)
    return c
