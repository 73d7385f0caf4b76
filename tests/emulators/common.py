"""Shared base for the local marketing-API emulators (Python 3 standard library only).

Each vendor module subclasses `Emulator`, declares its routes and its auth/error
style, and calls `main(VendorClass)`.  The base provides:

* a ThreadingHTTPServer bound to 127.0.0.1 that prints `LISTENING <port>` once ready;
* fault injection on *write* requests (POST/PUT/PATCH/DELETE to the vendor API):
  every Nth write gets 429 (`--rate-limit-every`, with `Retry-After`) or 500
  (`--fail-every`) before any effect; 429 wins when both trigger;
* `--latency-ms` sleep before answering each write, an optional in-flight cap
  (Mailchimp's 10 simultaneous connections), and `max_concurrent` tracking;
* admin endpoints without auth: `GET /_emulator/state`, `POST /_emulator/reset`;
* a log of every vendor request (including rejected ones) with its final status.

All state lives behind one lock.  Emails are compared lower-cased.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
STAT_KEYS = ("requests", "writes", "rate_limited", "server_errors",
             "rejected_oversize", "auth_failures", "max_concurrent")


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


class Reply:
    """An HTTP answer: JSON-encodes dicts/lists, sends str/bytes as-is, None = empty."""

    def __init__(self, status, body=None, headers=None, content_type="application/json"):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = dict(headers or {})

    def encode(self):
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class HTTPFailure(Exception):
    """Raised by route handlers to answer with a vendor-style error."""

    def __init__(self, reply):
        super().__init__(reply.status)
        self.reply = reply


class Req:
    def __init__(self, method, target, headers, raw):
        split = urlsplit(target)
        self.method, self.path, self.headers, self.raw = method, split.path, headers, raw
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self._json = self._json_error = None

    def header(self, name, default=""):
        return self.headers.get(name, default)

    def url(self, path, query=None):
        base = f"http://{self.header('Host') or '127.0.0.1'}{path}"
        return f"{base}?{urlencode(query)}" if query else base

    def json(self):
        """Parsed body; None when the body is missing or not valid JSON."""
        if self._json is None and self._json_error is None:
            try:
                self._json = json.loads(self.raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                self._json_error = exc
        return self._json


class Emulator:
    # (method, path regex, op, handler method name); matched with re.fullmatch.
    routes = ()
    max_inflight = None          # simultaneous vendor requests allowed (None = unlimited)

    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.inflight = 0
        self.reset()

    # ----- hooks for vendors -------------------------------------------------
    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--api-key", required=True)

    def reset_vendor(self):
        """Clear vendor-specific state (jobs, ...)."""

    def authenticate(self, req):
        """Return an error Reply (401 counts as auth failure) or None when accepted."""
        return None

    def error(self, status, code, title, detail):
        raise NotImplementedError

    def describe(self, op, req, match):
        """(op, emails, count) carried by a request, for the log; called before any effect."""
        return op, [], 0

    def state_members(self):
        return self.members

    def throttled(self):
        return self.error(429, "throttled", "Too Many Requests",
                          f"Too many requests; retry in {self.args.retry_after} second(s).")

    def too_crowded(self):
        return self.error(429, "throttled", "Too Many Requests",
                          "You have exceeded the limit of simultaneous connections.")

    def server_error(self):
        return self.error(500, "error", "Internal Server Error", "An unexpected internal error occurred.")

    def not_found(self, detail="The requested resource could not be found."):
        return self.error(404, "not_found", "Resource Not Found", detail)

    # ----- helpers -----------------------------------------------------------
    def fail(self, status, code, title, detail, oversize=False):
        if oversize:
            self.bump("rejected_oversize")
        return HTTPFailure(self.error(status, code, title, detail))

    def bump(self, key, n=1):
        with self.lock:
            self.stats[key] += n

    def rejected(self, email):
        """Per-row rejection: not a plausible email, or contains --reject-substring."""
        email = str(email or "").lower()
        sub = (self.args.reject_substring or "").lower()
        return "@" not in email or bool(sub and sub in email)

    def paginate(self, req, items, size=100):
        """Cursor pagination (`page[cursor]` = offset); returns (page, next absolute URL or None)."""
        try:
            start = max(0, int(req.query.get("page[cursor]", "0")))
        except ValueError:
            raise self.fail(400, "invalid", "Invalid input.", "Invalid page cursor.")
        nxt = start + size
        link = req.url(req.path, {"page[cursor]": str(nxt)}) if nxt < len(items) else None
        return items[start:nxt], link

    # ----- request flow ------------------------------------------------------
    def reset(self):
        with self.lock:
            self.members, self.log = {}, []
            self.stats = dict.fromkeys(STAT_KEYS, 0)
            self.stats["max_concurrent"] = self.inflight
            self.reset_vendor()

    def admin(self, req):
        if req.method == "GET" and req.path == "/_emulator/stats":
            # Cheap for big runs: counters and the number of members only.
            with self.lock:
                return Reply(200, dict(self.stats, members=len(self.members)))
        if req.method == "GET" and req.path == "/_emulator/state":
            with self.lock:
                return Reply(200, json.loads(json.dumps(
                    {"members": self.state_members(), "log": self.log, "stats": self.stats})))
        if req.method == "POST" and req.path == "/_emulator/reset":
            self.reset()
            return Reply(200, {"reset": True})
        return Reply(404, {"error": "unknown admin endpoint"})

    def match(self, req):
        for method, pattern, op, handler in self.routes:
            m = re.fullmatch(pattern, req.path)
            if m and method == req.method:
                return op, getattr(self, handler), m
        return None

    def serve(self, req):
        with self.lock:
            self.stats["requests"] += 1
            self.inflight += 1
            self.stats["max_concurrent"] = max(self.stats["max_concurrent"], self.inflight)
            crowded = self.max_inflight is not None and self.inflight > self.max_inflight
        route = self.match(req)
        op, emails, count = None, [], 0
        if route:
            try:
                with self.lock:
                    op, emails, count = self.describe(route[0], req, route[2])
            except Exception:  # best effort: malformed bodies are answered below
                op = route[0]
        try:
            reply = self.decide(req, route, crowded)
        except Exception as exc:  # never hang a client on an emulator bug
            reply = Reply(500, {"emulator_bug": repr(exc)})
        key = (req.header("X-Idempotency-Key") or req.header("Idempotency-Key")
               or req.header("X-Ecomwh-Idempotency-Key") or None)
        with self.lock:
            self.inflight -= 1
            self.log.append({"method": req.method, "path": req.path, "query": req.query,
                             "status": reply.status, "op": op, "emails": emails,
                             "count": count, "idempotency_key": key})
        return reply

    def decide(self, req, route, crowded):
        is_write = req.method in WRITE_METHODS
        if crowded:
            self.bump("rate_limited")
            return self.with_retry_after(self.too_crowded())
        if is_write and self.args.latency_ms > 0:
            time.sleep(self.args.latency_ms / 1000.0)
        denied = self.authenticate(req)
        if denied is not None:
            if denied.status == 401:
                self.bump("auth_failures")
            return denied
        if route is None:
            return self.not_found()
        if is_write:
            with self.lock:
                self.stats["writes"] += 1
                k = self.stats["writes"]
                every_rl, every_500 = self.args.rate_limit_every, self.args.fail_every
                if every_rl and k % every_rl == 0:
                    self.stats["rate_limited"] += 1
                    return self.with_retry_after(self.throttled())
                if every_500 and k % every_500 == 0:
                    self.stats["server_errors"] += 1
                    return self.server_error()
        try:
            return route[1](req, route[2])
        except HTTPFailure as failure:
            return failure.reply

    def with_retry_after(self, reply):
        reply.headers["Retry-After"] = str(self.args.retry_after)
        return reply


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def handle_any(self):
        req = Req(self.command, self.path, self.headers, self.read_body())
        emu = self.server.emulator
        reply = emu.admin(req) if req.path.startswith("/_emulator/") else emu.serve(req)
        body = b"" if reply.status in (204, 304) else reply.encode()
        self.send_response(reply.status)
        if body:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main(cls, argv=None):
    parser = argparse.ArgumentParser(description=cls.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate-limit-every", type=int, default=0, metavar="N")
    parser.add_argument("--fail-every", type=int, default=0, metavar="N")
    parser.add_argument("--retry-after", type=int, default=1, metavar="SECONDS")
    parser.add_argument("--latency-ms", type=int, default=0, metavar="MS")
    parser.add_argument("--reject-substring", default="", metavar="S")
    parser.add_argument("--job-polls", type=int, default=1, metavar="N")
    cls.add_arguments(parser)
    args = parser.parse_args(argv)
    server = Server(("127.0.0.1", args.port), Handler)
    server.emulator = cls(args)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)
