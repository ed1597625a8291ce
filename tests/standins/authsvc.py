#!/usr/bin/env python3
"""Stand-in for Storj's Auth Service (auth.storjshare.io), for tests only.

Storj cannot be reached from the test machine. This serves the one call the
backend makes, POST /v1/access, with the status codes, content types and
messages of storj/edge (shared/reference/storj.md section 2.2), and hands out
S3 credentials chosen on the command line so that they can match a real
Ceph RGW user (tests/env/s3-user.sh), which then plays Gateway-MT.

    authsvc.py PORT [--access-key K] [--secret-key S] [--endpoint URL]
               [--expired-prefix P] [--error-prefix P] [--fail-with CODE]
               [--front URL]

Listens on 127.0.0.1:PORT only (PORT 0 picks a free one); the first line on
stdout is "authsvc-standin: listening on 127.0.0.1:PORT". Then one line per
request with the grant's length, never the grant:
    POST /v1/access grant_len=187 public=false -> 200

  POST /v1/access    body {"access_grant": "...", "public": bool,
                     "usage_tags": ["mcp"]} (public and usage_tags optional)
     200 application/json {"access_key_id","secret_key","endpoint"}
     413 text/plain   body over 4 KiB (Content-Length or actual size)
     422 text/plain   not JSON, not an object, or a field of the wrong type
     400 text/plain   "access grant: ..." empty grant, grant not starting
                      with '1' (not base58check version 0), grant starting
                      with the expired prefix (default "1expired"); or
                      "invalid tag" for a usage tag other than "mcp"
     500 text/plain   grant starting with the error prefix (default
                      "1fail500"); the message is blanked, as in storj/edge
  OPTIONS /v1/access 200 (CORS preflight)
  GET /v1/health/startup, /v1/health/live   200
  other methods on /v1/access (and /v1/access/): 405; other paths: 404
  --fail-with CODE   every request answers CODE (text/plain)

--front URL (the control endpoint of storjfront.py, the Storj-behaviour S3
front that plays the hosted gateway): for each grant it registers, the
stand-in decodes the grant's default path cipher (grantcipher.py) and tells
the front, with the key pair it hands out, as Storj's Auth Service makes the
grant (and so its path cipher) known to Gateway-MT:
    PUT URL/_standin/keys/<access key> {"pathCipher", "secretKey"}
A grant that does not decode answers 400 "access grant: invalid access grant
format" (storj/edge parses grants); a front that does not take the key, 500.
The log line then also says "cipher=ENC_...".

Without --access-key/--secret-key the keys are random and shaped like the
real ones (lowercase base32, 28 and 53 characters, starting with "j").
The default endpoint is http://127.0.0.1:7480 (the Ceph RGW of the tests).
"""
import argparse
import base64
import http.server
import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grantcipher  # noqa: E402

POST_SIZE_LIMIT = 4096  # storj/edge post-size-limit default: 4.0 KiB


def real_looking_key(version, nbytes):
    raw = bytes([version]) + os.urandom(nbytes)
    return base64.b32encode(raw).decode().rstrip("=").lower()


class BodyTooLarge(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "authsvc-standin"
    sys_version = ""

    # -- plumbing -----------------------------------------------------------
    def log_message(self, fmt, *args):  # the default logs to stderr per request
        pass

    def note(self, grant_len, public, code, cipher=None):
        """One stdout line per request: never the grant, only its length."""
        glen = "-" if grant_len is None else grant_len
        extra = f" cipher={cipher}" if cipher else ""
        print(f"{self.command} {self.path} grant_len={glen} "
              f"public={'true' if public else 'false'}{extra} -> {code}", flush=True)

    def send(self, code, body, ctype="text/plain; charset=utf-8", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, code, msg):
        # Go's http.Error: text/plain, message plus a newline
        self.send(code, msg + "\n")

    def read_body(self):
        """The request body, at most POST_SIZE_LIMIT bytes, or BodyTooLarge."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = b""
            while True:
                line = self.rfile.readline(100)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                if len(out) + size > POST_SIZE_LIMIT:
                    self.close_connection = True
                    raise BodyTooLarge()
                out += self.rfile.read(size)
                self.rfile.readline(10)
        n = int(self.headers.get("Content-Length") or 0)
        if n > POST_SIZE_LIMIT:
            self.close_connection = True  # the rest of the body is not read
            raise BodyTooLarge()
        return self.rfile.read(n) if n > 0 else b""

    def route(self):
        path = self.path.split("?", 1)[0]
        if path in ("/v1/access", "/v1/access/"):
            return "access"
        if path in ("/v1/health/startup", "/v1/health/live"):
            return "health"
        return None

    def failing(self):
        code = self.server.opts.fail_with
        if code is None:
            return False
        if self.headers.get("Content-Length"):
            try:
                self.read_body()
            except BodyTooLarge:
                pass
        self.note(None, False, code)
        msg = http.server.BaseHTTPRequestHandler.responses.get(code, ("Error",))[0]
        self.send_text(code, msg if code >= 500 else f"access grant: {msg.lower()}")
        return True

    # -- methods ------------------------------------------------------------
    def do_POST(self):
        if self.failing():
            return
        r = self.route()
        if r is None:
            self.note(None, False, 404)
            return self.send_text(404, "404 page not found")
        if r != "access" or self.path.split("?", 1)[0] != "/v1/access":
            self.note(None, False, 405)
            return self.send_text(405, "Method Not Allowed")
        opts = self.server.opts
        try:
            raw = self.read_body()
        except (BodyTooLarge, ValueError):
            self.note(None, False, 413)
            return self.send_text(413, "http: request body too large")
        try:
            req = json.loads(raw.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("json: cannot unmarshal into Go value of type httpauth.createAccessRequest")
            grant = req.get("access_grant", "")
            public = req.get("public", False)
            tags = req.get("usage_tags", [])
            if grant is None:
                grant = ""
            if public is None:
                public = False
            if tags is None:
                tags = []
            if not isinstance(grant, str):
                raise ValueError("json: cannot unmarshal into field access_grant of type string")
            if not isinstance(public, bool):
                raise ValueError("json: cannot unmarshal into field public of type bool")
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise ValueError("json: cannot unmarshal into field usage_tags of type []string")
        except (ValueError, UnicodeDecodeError) as e:
            self.note(None, False, 422)
            return self.send_text(422, str(e) if str(e).startswith("json:") else
                                  "json: invalid character in request body")
        glen = len(grant)
        if any(t != "mcp" for t in tags):
            self.note(glen, public, 400)
            return self.send_text(400, "invalid tag")
        if not grant:
            self.note(glen, public, 400)
            return self.send_text(400, "access grant: access grant is empty")
        if not grant.startswith("1"):
            self.note(glen, public, 400)
            return self.send_text(400, "access grant: invalid access grant format: "
                                  "base58 version byte is not 0")
        if opts.expired_prefix and grant.startswith(opts.expired_prefix):
            self.note(glen, public, 400)
            return self.send_text(400, "access grant: expiration cannot be shorter than a minute")
        if opts.echo_grant:
            # a badly behaved service that quotes the request back
            self.note(glen, public, 400)
            return self.send_text(400, f"access grant: rejected {grant}")
        if opts.error_prefix and grant.startswith(opts.error_prefix):
            self.note(glen, public, 500)
            return self.send_text(500, "Internal Server Error")
        cipher = None
        if opts.front:
            try:
                cipher = grantcipher.path_cipher(grant)
            except grantcipher.GrantError as e:
                self.note(glen, public, 400)
                return self.send_text(400, f"access grant: invalid access grant format: {e}")
            if not tell_front(opts, cipher):
                self.note(glen, public, 500, cipher)
                return self.send_text(500, "Internal Server Error")
        body = json.dumps({"access_key_id": opts.access_key, "secret_key": opts.secret_key,
                           "endpoint": opts.endpoint})
        self.note(glen, public, 200, cipher)
        self.send(200, body + "\n", "application/json")

    def do_OPTIONS(self):
        if self.failing():
            return
        r = self.route()
        if r is None:
            return self.send_text(404, "404 page not found")
        self.send(200, b"", "text/plain; charset=utf-8")

    def other_method(self):
        if self.failing():
            return
        r = self.route()
        if r is None:
            self.note(None, False, 404)
            return self.send_text(404, "404 page not found")
        if r == "health" and self.command in ("GET", "HEAD"):
            return self.send_text(200, "ok")
        if self.headers.get("Content-Length"):
            try:
                self.read_body()
            except BodyTooLarge:
                pass
        self.note(None, False, 405)
        self.send_text(405, "Method Not Allowed")

    do_GET = do_HEAD = do_PUT = do_DELETE = do_PATCH = other_method


def tell_front(opts, cipher):
    """Registers the issued key pair and the grant's path cipher with the
    Storj-behaviour front; True when it took them."""
    body = json.dumps({"pathCipher": cipher, "secretKey": opts.secret_key,
                       "source": "authsvc-standin"}).encode()
    req = urllib.request.Request(f"{opts.front.rstrip('/')}/_standin/keys/{opts.access_key}",
                                 data=body, method="PUT",
                                 headers={"Content-Type": "application/json"})
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        with opener.open(req, timeout=10) as r:
            return r.status == 204
    except (urllib.error.URLError, OSError) as e:
        print(f"authsvc-standin: the S3 front did not take the key: {e}", flush=True)
        return False


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description="Storj Auth Service stand-in (tests only)")
    p.add_argument("port", type=int)
    p.add_argument("--access-key", default=None)
    p.add_argument("--secret-key", default=None)
    p.add_argument("--endpoint", default="http://127.0.0.1:7480")
    p.add_argument("--expired-prefix", default="1expired",
                   help="grants starting with this get 400 (expired); '' disables")
    p.add_argument("--error-prefix", default="1fail500",
                   help="grants starting with this get 500; '' disables")
    p.add_argument("--echo-grant", action="store_true",
                   help="answer 400 with the grant quoted in the message (a misbehaving service)")
    p.add_argument("--fail-with", type=int, default=None, metavar="CODE",
                   help="answer every request with this status code")
    p.add_argument("--front", default=None, metavar="URL",
                   help="storjfront.py base URL to tell each key pair and its grant's path cipher")
    opts = p.parse_args()
    if opts.fail_with is not None and not 400 <= opts.fail_with <= 599:
        p.error("--fail-with needs a 4xx or 5xx code")
    opts.access_key = opts.access_key or real_looking_key(0x4D, 16)
    opts.secret_key = opts.secret_key or real_looking_key(0x4E, 32)
    srv = Server(("127.0.0.1", opts.port), Handler)
    srv.opts = opts
    print(f"authsvc-standin: listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
