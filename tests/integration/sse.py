"""A small reader of text/event-stream answers (API.md section 18) for the tests."""
import http.client
import json
import socket
import time


class Stream:
    """GET /v1/stream on its own connection. .status, .headers; .events() reads frames."""

    def __init__(self, server, token, last_event_id=None, rcvbuf=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        if rcvbuf:
            self.conn.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            self.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        headers = {"Authorization": "Bearer " + token}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/v1/stream", headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.buf = b""
        self.comments = []

    def body_json(self):
        return json.loads(self.resp.read())

    def _frames(self):
        while b"\n\n" in self.buf:
            frame, self.buf = self.buf.split(b"\n\n", 1)
            yield frame.decode()

    def read_until(self, predicate, timeout=10):
        """Reads frames until predicate(events) holds for the events read so far (each a dict
        with "id", "event" and "data" parsed); returns them. Comment lines go to .comments."""
        events = []
        deadline = time.monotonic() + timeout
        while not predicate(events):
            if time.monotonic() > deadline:
                raise AssertionError("stream: condition not met in %d s; got %r" % (timeout, events))
            self.conn.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = self.resp.read1(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise EOFError("stream closed; got %r" % events)
            self.buf += chunk
            for frame in self._frames():
                ev = {}
                for line in frame.split("\n"):
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif ": " in line:
                        k, v = line.split(": ", 1)
                        ev[k] = v
                if "data" in ev:
                    ev["data"] = json.loads(ev["data"])
                    events.append(ev)
        return events

    def close(self):
        self.conn.close()
