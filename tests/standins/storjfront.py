#!/usr/bin/env python3
"""storjfront: a STAND-IN for the S3 rules of Storj's gateways, for tests only.

Storj cannot be reached from the test machine, and Ceph RGW (the S3 store the
tests use) has none of Storj's S3 limits. This is a real HTTP peer that sits
between an S3 client (the registry, or the gateway stand-in) and Ceph RGW,
forwards every request byte for byte (headers untouched: RGW checks the
signatures) and streams bodies both ways, and does what Storj's gateways do
(shared reference storj.md 2.3, 4.3, 4.4, 4.4a; storj/gateway-st
miniogw/gateway_listing.go, multipart.go):

  UploadPartCopy (PUT with x-amz-copy-source, partNumber and uploadId)
      501 NotImplemented, unless the access key was registered with
      "uploadPartCopy": true (gateway-st --s3.upload-part-copy.enable).
  CompleteMultipartUpload with a part other than the last under 5 MiB
      400 EntityTooSmall (the sizes are those of the UploadPart requests
      that went through this front).
  ListObjects / ListObjectsV2 when the key's path cipher is not ENC_NULL
      - prefix empty or ending in '/', delimiter '' or '/': served, but the
        <Contents> and <CommonPrefixes> of each page come back in the order
        encrypted keys have: each path component sorted by a hash of it, so
        siblings are not in lexical order while every "directory" stays
        contiguous (Storj encrypts each component on its own); the same for
        <Upload> in ListMultipartUploads.
      - any other prefix or delimiter:
          profile hosted (Gateway-MT, self-managed-encryption project made
          after 2025-11-30): 501 NotImplemented with Storj's message.
          profile selfhosted (Gateway-ST): first the exact key is looked up
          (and "prefix/" with delimiter '/'); when nothing is there, an
          exhaustive listing of everything under the prefix's last '/' (the
          whole bucket when it has none) is made and counted, failing with
          501 past --exhaustive-limit items (default 100000, gateway-st's
          --s3.max-keys-exhaustive-limit); then the request is forwarded.
          The lookups and the listing are signed with the key's secret,
          which must have been registered.
  ListMultipartUploads with a delimiter other than '' or '/': 501.
  With ENC_NULL the listings are those of a plain gateway (RGW's, lexical).

Storj's request limits (on by default, as on Storj; 0 turns one off):
  project rate   every S3 request through the front takes a token from one
                 bucket refilled at --rate per second (default 100) holding at
                 most --burst (default: the rate): the satellite's per-project
                 limiter (storj/storj satellite/metainfo validation.go
                 checkRate: rate.NewLimiter(RateLimiter.Rate, burst = the
                 rate), RateLimiter.Rate default 100). Every S3 request counts
                 as one; on Storj a request costs one or more satellite calls.
  key writes     a write to one object key (PutObject, CreateMultipartUpload:
                 the satellite's BeginObject) takes a token from a bucket of
                 that key refilled at --key-write-rate per second (default 1)
                 holding at most --key-write-burst (default 3): the
                 satellite's UploadLimiter, SingleObjectLimit 1s (storj/storj
                 satellite/metainfo checkObjectUploadRate; burst 3 in
                 endpoint_object_test.go TestEndpoint_Object_Limit). Parts,
                 copies, deletes and reads are not key writes.
  The selfhosted profile's own lookups and listing pages for a gateway-side
  listing take a token each too (stats "gatewayRequests"): on Storj they are
  satellite requests of the project; over the limit the listing is answered
  429 SlowDown.
  Both refusals are the satellite's ResourceExhausted "Too Many Requests",
  which storj/uplink common.go turns into uplink.ErrTooManyRequests, and
  storj/gateway-st miniogw/gateway.go ConvertError into ErrSlowDown:
      429 Too Many Requests, <Code>SlowDown</Code>,
      <Message>Please reduce your request rate.</Message>
  Not S3's usual 503: gateway-st says so, ErrSlowDown's StatusCode is
  http.StatusTooManyRequests. storj/minio cmd/api-response.go
  WriteErrorResponse adds "Retry-After: 12" (STORJ_MINIO_RETRY_AFTER) to a
  SlowDown; a HEAD's error has no body and no Retry-After
  (writeErrorResponseHeadersOnly). --retry-after S sets the header (0: none).
  The registry's AWS SDK (aws-sdk-go v1) retries a 429 as a throttle and
  waits Retry-After on top of its backoff. A refused request is never
  forwarded to RGW.
  --rate R --burst N --key-write-rate R --key-write-burst N --retry-after S
  (env RATE_LIMIT, RATE_BURST, KEY_WRITE_RATE, KEY_WRITE_BURST, RETRY_AFTER)

Fault switches (off by default), for the retry and give-up paths of S3
clients: reads only (GET and HEAD of objects, listings too), answered by the
front with 500 InternalError as S3 does, never forwarded. The target of a
read is its object key, or for a listing its prefix (bucket not included).
  --fail-one-in N   (env FAIL_ONE_IN) every Nth read fails; with --fail-scope
                    RE (FAIL_SCOPE) only reads whose target matches RE count
  --fail-burst K    (env FAIL_BURST, default 1) a target picked that way
                    fails its next K-1 reads too: an S3 client retries on its
                    own (the registry's AWS SDK tries 4 times), so K > 4 lets
                    the failure reach the client's client
  --fail-match RE   (env FAIL_MATCH) every read whose target matches RE fails
                    (a Python regular expression, searched, not anchored)

Which rules apply is decided per S3 access key (from the Authorization header
or X-Amz-Credential). Keys are told to the front on its control endpoint:

  PUT  /_standin/keys/<accessKey>  {"pathCipher": "ENC_NULL"|"ENC_AESGCM"|
        "ENC_SECRETBOX"|"ENC_UNSPECIFIED"|0..3, "secretKey"?: "...",
        "uploadPartCopy"?: bool}                                  -> 204
  DELETE /_standin/keys/<accessKey>                               -> 204
  GET  /_standin/stats   counters (requests by S3 operation in "ops", refusals
        by rule and limit in "refused") and keys (never a secret), JSON -> 200
  POST /_standin/reset   counters back to 0                       -> 204
  PUT  /_standin/faults  {"failOneIn": N, "failBurst": K, "failScope": RE,
        "failMatch": RE} (missing: off; replaces all four)          -> 204
  GET  /_standin/faults  the switches and their counters, JSON    -> 200
  PUT  /_standin/limits  {"rate": R, "burst": N, "keyWrites": {"rate": R,
        "burst": N}, "retryAfter": S} (a missing field: Storj's default;
        rate 0: off); the buckets start full again                  -> 204
  GET  /_standin/limits  the limits and their refusals, JSON      -> 200
  GET  /_standin/health                                           -> 200

The gateway stand-in (gateway/fwd.c) registers its key pair at start, the
Auth Service stand-in (authsvc.py --front) each key pair it hands out; both
decode the grant's default path cipher (ENC_UNSPECIFIED counts as
ENC_AESGCM, as in storj/common). A key nobody registered gets
--default-cipher (default ENC_NULL) and no secret.

    storjfront.py [--profile hosted|selfhosted] [--port P] [--listen ADDR]...
                  [--upstream HOST:PORT] [--exhaustive-limit N]
                  [--min-part-size BYTES] [--default-cipher C]
                  [--fail-one-in N] [--fail-burst K] [--fail-scope RE]
                  [--fail-match RE] [--rate R] [--burst N] [--key-write-rate R]
                  [--key-write-burst N] [--retry-after S]

Listens on 127.0.0.1 and, when $HOST_IP is set (the host's address on the
tests' 198.18.0.0/15 bridge), on it too, same port; --listen replaces both.
Only loopback and 198.18.0.0/15 addresses are accepted. The first stdout
line is "storjfront: listening on 127.0.0.1:PORT ..."; then one line per
rule applied, never a secret. tests/standins/storjfront.sh starts it.
"""
import argparse
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

HEAD_MAX = 64 * 1024          # request or response head
CONTROL_BODY_MAX = 16 * 1024  # body of a control request
COMPLETE_BODY_MAX = 4 << 20   # CompleteMultipartUpload XML (10000 parts fit)
LIST_BODY_MAX = 64 << 20      # a listing page that is reordered
COPY_BUF = 1 << 20
CONNECT_TIMEOUT = 10
DEBUG = os.environ.get("STORJFRONT_DEBUG") == "1"  # one line per request, no header values

CIPHERS = {"ENC_UNSPECIFIED": 0, "ENC_NULL": 1, "ENC_AESGCM": 2, "ENC_SECRETBOX": 3}
CIPHER_NAMES = {v: k for k, v in CIPHERS.items()}

MSG_NOT_IMPLEMENTED = "A header you provided implies functionality that is not implemented"
MSG_LISTING = ("Projects with self-managed encryption created after 2025-11-30 only support "
               "empty prefixes/delimiters or those ending with '/'.")
MSG_TOO_MANY = ("ListObjects(V2): listing too many items for gateway-side filtering using "
                "arbitrary delimiter/prefix")
MSG_TOO_SMALL = "Your proposed upload is smaller than the minimum allowed object size."
MSG_SLOW_DOWN = "Please reduce your request rate."  # gateway-st miniogw/gateway.go ErrSlowDown

# S3 operations counted in the stats ("ops"), in the order they are shown
OPS = ("GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "DeleteObjects",
       "ListObjects", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
       "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts", "ListMultipartUploads",
       "HeadBucket", "CreateBucket", "ListBuckets", "Other")

LIST_PARAMS = {"list-type", "prefix", "delimiter", "marker", "max-keys", "continuation-token",
               "start-after", "encoding-type", "fetch-owner", "x-id"}


class ProtoError(Exception):
    pass


def log(msg):
    print(f"storjfront: {msg}", flush=True)


# ---------------------------------------------------------------------------
# State shared by the connection threads

class Key:
    __slots__ = ("cipher", "secret", "upc", "source")

    def __init__(self, cipher, secret=None, upc=False, source=""):
        self.cipher, self.secret, self.upc, self.source = cipher, secret, upc, source

    @property
    def encrypted(self):
        return self.cipher != CIPHERS["ENC_NULL"]


class Faults:
    """The fault switches (see the header). Called under State.lock."""

    def __init__(self):
        self.one_in, self.burst, self.scope, self.match = 0, 1, None, None
        self.left = {}  # target -> failures still due in its burst
        self.zero()

    def zero(self):
        self.reads = self.counted = self.injected = self.matched = 0
        self.bursts = self.bursts_spent = 0

    @staticmethod
    def parse(d):
        """(error, (one_in, burst, scope, match)) from a JSON object."""
        if not isinstance(d, dict):
            return "body: not a JSON object", None
        for f in d:
            if f not in ("failOneIn", "failBurst", "failScope", "failMatch"):
                return f"{f}: unknown field", None
        vals = []
        for f, lo, dflt in (("failOneIn", 0, 0), ("failBurst", 1, 1)):
            v = d.get(f, dflt)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo or v > 1000000:
                return f"{f}: an integer from {lo} to 1000000", None
            vals.append(v)
        for f in ("failScope", "failMatch"):
            v = d.get(f) or None
            if v is not None:
                if not isinstance(v, str) or len(v) > 1024:
                    return f"{f}: a regular expression (a string)", None
                try:
                    v = re.compile(v)
                except re.error as e:
                    return f"{f}: not a regular expression: {e}", None
            vals.append(v)
        return None, tuple(vals)

    def set(self, one_in, burst, scope, match):
        self.one_in, self.burst, self.scope, self.match = one_in, burst, scope, match
        self.left.clear()

    def decide(self, target):
        """Whether this read fails."""
        self.reads += 1
        if self.match is not None and self.match.search(target):
            self.matched += 1
            self.injected += 1
            return True
        left = self.left.get(target)
        if left:
            if left == 1:
                del self.left[target]
                self.bursts_spent += 1
            else:
                self.left[target] = left - 1
            self.injected += 1
            return True
        if self.one_in and (self.scope is None or self.scope.search(target)):
            self.counted += 1
            if self.counted % self.one_in == 0:
                self.bursts += 1
                if self.burst > 1:
                    self.left[target] = self.burst - 1
                else:
                    self.bursts_spent += 1
                self.injected += 1
                return True
        return False

    def view(self):
        return {"failOneIn": self.one_in, "failBurst": self.burst,
                "failScope": self.scope.pattern if self.scope else None,
                "failMatch": self.match.pattern if self.match else None,
                "reads": self.reads, "counted": self.counted, "injected": self.injected,
                "matched": self.matched, "bursts": self.bursts, "burstsSpent": self.bursts_spent}


class Bucket:
    """A token bucket: golang.org/x/time/rate's Limiter.Allow, which the
    satellite uses (a refused request takes no token)."""
    __slots__ = ("tokens", "at")

    def __init__(self, burst, now):
        self.tokens, self.at = float(burst), now

    def allow(self, rate, burst, now):
        self.tokens = min(float(burst), self.tokens + (now - self.at) * rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Limits:
    """Storj's request limits (see the header). Called under State.lock."""
    KEYS_MAX = 10000  # key buckets kept (the satellite's cache holds 10000 locations)

    def __init__(self):
        self.rate, self.burst, self.kw_rate, self.kw_burst, self.retry_after = 100.0, 100, 1.0, 3, 12
        self.project = None
        self.keys = {}

    @staticmethod
    def parse(d):
        """(error, (rate, burst, kw_rate, kw_burst, retry_after)) from a JSON
        object; a missing field takes Storj's default, a missing burst the
        rate's (at least 1)."""
        if not isinstance(d, dict):
            return "body: not a JSON object", None

        def number(name, v, lo, hi, integer=False):
            ok = isinstance(v, int) if integer else isinstance(v, (int, float))
            if isinstance(v, bool) or not ok or not lo <= v <= hi:  # NaN fails the range too
                return f"{name}: {'an integer' if integer else 'a number'} from {lo} to {hi}"
            return None

        for f in d:
            if f not in ("rate", "burst", "keyWrites", "retryAfter"):
                return f"{f}: unknown field", None
        kw = d.get("keyWrites", {})
        if not isinstance(kw, dict):
            return "keyWrites: an object {rate, burst}", None
        for f in kw:
            if f not in ("rate", "burst"):
                return f"keyWrites.{f}: unknown field", None
        rate = d.get("rate", 100)
        err = number("rate", rate, 0, 1000000)
        if err:
            return err, None
        burst = d.get("burst", max(1, int(rate)))
        err = number("burst", burst, 1, 1000000, True)
        if err:
            return err, None
        kw_rate = kw.get("rate", 1)
        err = number("keyWrites.rate", kw_rate, 0, 1000000)
        if err:
            return err, None
        kw_burst = kw.get("burst", 3)
        err = number("keyWrites.burst", kw_burst, 1, 1000000, True)
        if err:
            return err, None
        ra = d.get("retryAfter", 12)
        err = number("retryAfter", ra, 0, 3600, True)
        if err:
            return err, None
        return None, (float(rate), burst, float(kw_rate), kw_burst, ra)

    def set(self, rate, burst, kw_rate, kw_burst, retry_after):
        self.rate, self.burst, self.kw_rate, self.kw_burst = rate, burst, kw_rate, kw_burst
        self.retry_after = retry_after
        self.project = None
        self.keys.clear()

    def allow_request(self, now):
        if self.rate <= 0:
            return True
        if self.project is None:
            self.project = Bucket(self.burst, now)
        return self.project.allow(self.rate, self.burst, now)

    def allow_key_write(self, where, now):
        if self.kw_rate <= 0:
            return True
        b = self.keys.get(where)
        if b is None:
            if len(self.keys) >= self.KEYS_MAX:
                full = self.kw_burst / self.kw_rate
                for k in [k for k, x in self.keys.items() if now - x.at >= full]:
                    del self.keys[k]
                if len(self.keys) >= self.KEYS_MAX:  # all busy: forget the oldest, as a cache would
                    del self.keys[min(self.keys, key=lambda k: self.keys[k].at)]
            b = self.keys[where] = Bucket(self.kw_burst, now)
        return b.allow(self.kw_rate, self.kw_burst, now)

    def view(self):
        def num(x):
            return int(x) if x == int(x) else x
        return {"rate": num(self.rate), "burst": self.burst,
                "keyWrites": {"rate": num(self.kw_rate), "burst": self.kw_burst},
                "retryAfter": self.retry_after}


def s3_op(req):
    """The S3 operation of a request, for the stats."""
    m, qy, b, k = req.method, req.query, req.bucket, req.key
    if not b:
        return "ListBuckets" if m == "GET" else "Other"
    if not k:
        if m == "GET":
            if "uploads" in qy:
                return "ListMultipartUploads"
            return "ListObjects" if set(qy) <= LIST_PARAMS else "Other"
        if m == "HEAD":
            return "HeadBucket"
        if m == "PUT" and not qy:
            return "CreateBucket"
        if m == "POST" and "delete" in qy:
            return "DeleteObjects"
        return "Other"
    if m == "GET":
        return "ListParts" if "uploadId" in qy else ("GetObject" if not qy.keys() - {"versionId", "partNumber"} else "Other")
    if m == "HEAD":
        return "HeadObject"
    if m == "PUT":
        if "partNumber" in qy and "uploadId" in qy:
            return "UploadPartCopy" if req.h("x-amz-copy-source") else "UploadPart"
        if qy.keys() - {"versionId"}:
            return "Other"
        return "CopyObject" if req.h("x-amz-copy-source") else "PutObject"
    if m == "POST":
        if "uploads" in qy:
            return "CreateMultipartUpload"
        if "uploadId" in qy:
            return "CompleteMultipartUpload"
        return "Other"
    if m == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in qy else "DeleteObject"
    return "Other"


class State:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.keys = {}
        self.parts = {}   # uploadId -> {partNumber: size or None}
        self.faults = Faults()
        self.faults.set(opts.fail_one_in, opts.fail_burst, opts.fail_scope, opts.fail_match)
        self.limits = Limits()
        self.limits.set(*opts.limits)
        self.reset()

    def reset(self):
        with self.lock:
            self.counters = {"requests": 0, "gatewayRequests": 0, "exhaustiveListings": 0,
                             "exhaustiveItems": 0,
                             "singleLookups": 0, "reordered": 0,
                             "ops": {op: 0 for op in OPS},
                             "refused": {"uploadPartCopy": 0, "listing": 0, "entityTooSmall": 0,
                                         "tooManyItems": 0, "delimiter": 0,
                                         "rateLimit": 0, "keyWriteLimit": 0}}
            if hasattr(self, "faults"):
                self.faults.zero()

    def count(self, name, n=1, refused=False):
        with self.lock:
            if refused:
                self.counters["refused"][name] += n
            else:
                self.counters[name] += n

    def key(self, ak):
        with self.lock:
            k = self.keys.get(ak)
        if k is None:
            k = Key(self.opts.default_cipher, source="default")
        return k

    def stats(self):
        with self.lock:
            out = json.loads(json.dumps(self.counters))
            out["profile"] = self.opts.profile
            out["exhaustiveLimit"] = self.opts.exhaustive_limit
            out["minPartSize"] = self.opts.min_part_size
            out["faults"] = self.faults.view()
            out["limits"] = self.limits.view()
            out["keys"] = {ak: {"pathCipher": CIPHER_NAMES.get(k.cipher, str(k.cipher)),
                                "secretKey": {"set": bool(k.secret)},
                                "uploadPartCopy": k.upc, "source": k.source}
                           for ak, k in self.keys.items()}
        return out


# ---------------------------------------------------------------------------
# HTTP plumbing: a buffered reader and byte-exact body copies

class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.mv = memoryview(bytearray(COPY_BUF))

    def _fill(self):
        n = self.sock.recv_into(self.mv, COPY_BUF)
        if n == 0:
            return False
        self.buf += self.mv[:n]
        return True

    def read_until(self, sep, cap):
        """Bytes up to and including sep; None at EOF before any byte."""
        start = 0
        while True:
            i = self.buf.find(sep, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > cap:
                raise ProtoError("head too large")
            start = max(0, len(self.buf) - len(sep) + 1)
            if not self._fill():
                if self.buf:
                    raise ProtoError("connection closed inside a head")
                return None

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise ProtoError("connection closed inside a body")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def copy(self, dst, n):
        """Copies exactly n bytes to socket dst (None: discard)."""
        if self.buf:
            take = min(n, len(self.buf))
            if dst is not None:
                dst.sendall(self.buf[:take])
            del self.buf[:take]
            n -= take
        while n > 0:
            r = self.sock.recv_into(self.mv, min(COPY_BUF, n))
            if r == 0:
                raise ProtoError("connection closed inside a body")
            if dst is not None:
                dst.sendall(self.mv[:r])
            n -= r

    def copy_to_eof(self, dst):
        if self.buf:
            dst.sendall(self.buf)
            self.buf.clear()
        while True:
            r = self.sock.recv_into(self.mv, COPY_BUF)
            if r == 0:
                return
            dst.sendall(self.mv[:r])

    def copy_body(self, dst, framing):
        """Copies a body as it is on the wire (chunk lines included)."""
        kind = framing[0]
        if kind == "length":
            self.copy(dst, framing[1])
        elif kind == "chunked":
            while True:
                line = self.read_until(b"\r\n", 4096)
                if line is None:
                    raise ProtoError("connection closed inside a chunked body")
                if dst is not None:
                    dst.sendall(line)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtoError("bad chunk size") from None
                if size == 0:
                    while True:  # trailers, then the empty line
                        t = self.read_until(b"\r\n", 8192)
                        if t is None:
                            raise ProtoError("connection closed inside trailers")
                        if dst is not None:
                            dst.sendall(t)
                        if t == b"\r\n":
                            return
                self.copy(dst, size + 2)
        elif kind == "eof":
            self.copy_to_eof(dst)

    def read_body(self, framing, cap):
        """The decoded body, at most cap bytes."""
        kind = framing[0]
        if kind == "length":
            if framing[1] > cap:
                raise ProtoError("body too large")
            return self.read_exact(framing[1])
        if kind == "chunked":
            out = bytearray()
            while True:
                line = self.read_until(b"\r\n", 4096)
                if line is None:
                    raise ProtoError("connection closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.read_until(b"\r\n", 8192) not in (b"\r\n", None):
                        pass
                    return bytes(out)
                if len(out) + size > cap:
                    raise ProtoError("body too large")
                out += self.read_exact(size + 2)[:-2]
        if kind == "eof":
            out = bytearray(self.buf)
            self.buf.clear()
            while True:
                r = self.sock.recv_into(self.mv, COPY_BUF)
                if r == 0:
                    return bytes(out)
                out += self.mv[:r]
                if len(out) > cap:
                    raise ProtoError("body too large")
        return b""


class Message:
    """A parsed request or response head; raw keeps the bytes to forward."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw[:-4].split(b"\r\n")
        self.start = lines[0].decode("latin-1")
        self.headers = {}
        for ln in lines[1:]:
            if b":" not in ln:
                raise ProtoError("bad header line")
            k, v = ln.split(b":", 1)
            k = k.decode("latin-1").strip().lower()
            v = v.decode("latin-1").strip()
            self.headers[k] = self.headers[k] + ", " + v if k in self.headers else v

    def h(self, name, default=""):
        return self.headers.get(name, default)

    def framing(self, is_response=False, method="", status=0):
        if is_response and (method == "HEAD" or 100 <= status < 200 or status in (204, 304)):
            return ("none",)
        if "chunked" in self.h("transfer-encoding").lower():
            return ("chunked",)
        cl = self.h("content-length")
        if cl:
            try:
                n = int(cl.split(",")[0])
            except ValueError:
                raise ProtoError("bad Content-Length") from None
            if n < 0:
                raise ProtoError("bad Content-Length")
            return ("length", n)
        return ("eof",) if is_response else ("none",)

    def wants_close(self):
        return "close" in self.h("connection").lower()


class Request(Message):
    def __init__(self, raw):
        super().__init__(raw)
        parts = self.start.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise ProtoError("bad request line")
        self.method, self.target, self.version = parts
        path, _, query = self.target.partition("?")
        self.path = urllib.parse.unquote(path)
        self.query = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        segs = self.path.lstrip("/").split("/", 1)
        self.bucket = segs[0]
        self.key = segs[1] if len(segs) > 1 else ""
        self.http10 = self.version == "HTTP/1.0"

    def access_key(self):
        auth = self.h("authorization")
        m = re.search(r"Credential=([^/,\s]+)/", auth)
        if m:
            return m.group(1)
        m = re.match(r"AWS ([^:\s]+):", auth)
        if m:
            return m.group(1)
        cred = self.query.get("X-Amz-Credential", "")
        return cred.split("/", 1)[0] if cred else (self.query.get("AWSAccessKeyId") or "")

    def region(self):
        m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/s3/", self.h("authorization"))
        if m:
            return m.group(1)
        parts = self.query.get("X-Amz-Credential", "").split("/")
        return parts[2] if len(parts) > 3 else "us-east-1"


class Response(Message):
    def __init__(self, raw):
        super().__init__(raw)
        parts = self.start.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ProtoError("bad status line")
        try:
            self.status = int(parts[1])
        except ValueError:
            raise ProtoError("bad status code") from None


def s3_error(status, reason, code, message, req, close):
    rid = os.urandom(8).hex().upper()
    resource = req.path if req else "/"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            % (code, xml_escape(message)))
    if req and req.bucket:
        body += "<BucketName>%s</BucketName>" % xml_escape(req.bucket)
    if req and req.key:
        body += "<Key>%s</Key>" % xml_escape(req.key)
    body += "<Resource>%s</Resource><RequestId>%s</RequestId><HostId>storjfront-standin</HostId></Error>" % (
        xml_escape(resource), rid)
    data = body.encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(data)}\r\nx-amz-request-id: {rid}\r\n"
            f"Server: storjfront-standin\r\nAccept-Ranges: bytes\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n")
    return head.encode() + (b"" if req and req.method == "HEAD" else data)


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def plain(status, reason, body, ctype="text/plain; charset=utf-8", close=False):
    data = body.encode() if isinstance(body, str) else body
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(data)}\r\n"
            f"Server: storjfront-standin\r\nConnection: {'close' if close else 'keep-alive'}\r\n\r\n"
            ).encode() + data


# ---------------------------------------------------------------------------
# Listings under encrypted keys: a deterministic, non-lexical order

def encrypted_order(key):
    """Where a key sorts when each path component is encrypted on its own
    (storj/common encryption/path.go): siblings by their ciphertext, here a
    hash, and every subtree stays contiguous, as on Storj."""
    return tuple(hashlib.sha256(c).digest() for c in key.split(b"/"))


def reorder(body, tag, keytag):
    pat = re.compile(rb"<%s>.*?</%s>" % (tag, tag), re.S)
    blocks = pat.findall(body)
    if len(blocks) < 2:
        return body, 0
    kpat = re.compile(rb"<%s>(.*?)</%s>" % (keytag, keytag), re.S)

    def weight(b):
        m = kpat.search(b)
        return encrypted_order(m.group(1) if m else b)

    it = iter(sorted(blocks, key=weight))
    return pat.sub(lambda _m: next(it), body), len(blocks)


def reorder_listing(body):
    n = 0
    for tag, keytag in ((b"Contents", b"Key"), (b"CommonPrefixes", b"Prefix"), (b"Upload", b"Key")):
        body, k = reorder(body, tag, keytag)
        n += k
    return body, n


# ---------------------------------------------------------------------------
# Requests the front makes itself (selfhosted profile), signed with SigV4

def q(s, safe=""):
    return urllib.parse.quote(s, safe=safe + "~")


class Signer:
    def __init__(self, upstream, ak, secret, region):
        self.host, self.port = upstream
        self.ak, self.secret, self.region = ak, secret, region

    def request(self, method, bucket, key="", query=None):
        query = query or {}
        path = "/" + q(bucket) + ("/" + q(key, "/") if key else "")
        cq = "&".join(f"{q(k)}={q(v)}" for k, v in sorted(query.items()))
        now = datetime.datetime.now(datetime.timezone.utc)
        amzdate, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        host = f"{self.host}:{self.port}"
        payload = hashlib.sha256(b"").hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amzdate}
        signed = ";".join(sorted(headers))
        canon = "\n".join([method, path, cq] + [f"{k}:{headers[k]}" for k in sorted(headers)]
                          + ["", signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.ak}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={sig}")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path + ("?" + cq if cq else ""), headers={
                "Host": host, **{k: v for k, v in headers.items() if k != "host"}})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def list_page(self, bucket, prefix, delimiter, token):
        query = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
        if delimiter:
            query["delimiter"] = delimiter
        if token:
            query["continuation-token"] = token
        status, body = self.request("GET", bucket, "", query)
        if status != 200:
            raise ProtoError(f"upstream listing answered {status}")
        items = len(re.findall(rb"<Contents>", body)) + len(re.findall(rb"<CommonPrefixes>", body))
        truncated = re.search(rb"<IsTruncated>true</IsTruncated>", body) is not None
        m = re.search(rb"<NextContinuationToken>(.*?)</NextContinuationToken>", body, re.S)
        nxt = m.group(1).decode().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") if m else ""
        return items, truncated and bool(nxt), nxt


# ---------------------------------------------------------------------------
# One client connection

class Conn:
    def __init__(self, state, sock):
        self.st = state
        self.opts = state.opts
        self.sock = sock
        self.rd = Reader(sock)
        self.up = None
        self.up_rd = None

    def close_up(self):
        if self.up:
            try:
                self.up.close()
            except OSError:
                pass
        self.up = self.up_rd = None

    def ensure_up(self):
        if self.up is None:
            self.up = socket.create_connection(self.opts.upstream, timeout=CONNECT_TIMEOUT)
            self.up.settimeout(None)
            self.up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.up_rd = Reader(self.up)

    def run(self):
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                raw = self.rd.read_until(b"\r\n\r\n", HEAD_MAX)
                if raw is None:
                    break
                req = Request(raw)
                if DEBUG:
                    log(f"debug: {req.method} {req.target[:160]} cl={req.h('content-length')} "
                        f"te={req.h('transfer-encoding')} expect={req.h('expect')}")
                if req.path.startswith("/_standin/"):
                    keep = self.control(req)
                else:
                    keep = self.s3(req)
                if not keep or req.wants_close() or req.http10:
                    break
        except (ProtoError, OSError, ValueError) as e:
            if not isinstance(e, (BrokenPipeError, ConnectionResetError)):
                log(f"connection dropped: {type(e).__name__}: {e}")
        finally:
            self.close_up()
            try:
                self.sock.close()
            except OSError:
                pass

    # -- control endpoint ---------------------------------------------------
    def control(self, req):
        fr = req.framing()
        body = self.rd.read_body(fr, CONTROL_BODY_MAX) if fr[0] != "none" else b""
        path = req.path
        if path == "/_standin/health" and req.method in ("GET", "HEAD"):
            self.sock.sendall(plain(200, "OK", "storjfront: Storj-behaviour S3 front (a stand-in, not Storj)\n"))
        elif path == "/_standin/stats" and req.method == "GET":
            self.sock.sendall(plain(200, "OK", json.dumps(self.st.stats()) + "\n", "application/json"))
        elif path == "/_standin/reset" and req.method == "POST":
            self.st.reset()
            self.sock.sendall(plain(204, "No Content", b""))
        elif path == "/_standin/faults" and req.method == "GET":
            with self.st.lock:
                v = self.st.faults.view()
            self.sock.sendall(plain(200, "OK", json.dumps(v) + "\n", "application/json"))
        elif path == "/_standin/faults" and req.method == "PUT":
            try:
                d = json.loads(body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                d = None
            err, vals = Faults.parse(d) if d is not None else ("body: not JSON", None)
            if err:
                self.sock.sendall(plain(400, "Bad Request", err + "\n"))
                return True
            with self.st.lock:
                self.st.faults.set(*vals)
                v = self.st.faults.view()
            log("fault switches: " + json.dumps({k: x for k, x in v.items() if k.startswith("fail")}))
            self.sock.sendall(plain(204, "No Content", b""))
        elif path == "/_standin/limits" and req.method == "GET":
            with self.st.lock:
                v = self.st.limits.view()
                v["refused"] = {k: self.st.counters["refused"][k] for k in ("rateLimit", "keyWriteLimit")}
            self.sock.sendall(plain(200, "OK", json.dumps(v) + "\n", "application/json"))
        elif path == "/_standin/limits" and req.method == "PUT":
            try:
                d = json.loads(body.decode("utf-8") or "{}")
            except (ValueError, UnicodeDecodeError):
                d = None
            err, vals = Limits.parse(d) if d is not None else ("body: not JSON", None)
            if err:
                self.sock.sendall(plain(400, "Bad Request", err + "\n"))
                return True
            with self.st.lock:
                self.st.limits.set(*vals)
                v = self.st.limits.view()
            log("limits: " + json.dumps(v))
            self.sock.sendall(plain(204, "No Content", b""))
        elif path.startswith("/_standin/keys/") and req.method in ("PUT", "DELETE"):
            ak = path[len("/_standin/keys/"):]
            if not re.fullmatch(r"[A-Za-z0-9._~+=-]{1,128}", ak):
                self.sock.sendall(plain(400, "Bad Request", "accessKey: not a valid S3 access key\n"))
                return True
            if req.method == "DELETE":
                with self.st.lock:
                    self.st.keys.pop(ak, None)
                self.sock.sendall(plain(204, "No Content", b""))
                return True
            err, key = self.parse_key(body)
            if err:
                self.sock.sendall(plain(400, "Bad Request", err + "\n"))
                return True
            with self.st.lock:
                self.st.keys[ak] = key
            log(f"key {ak[:4]}... registered by {key.source or 'a client'}: path cipher "
                f"{CIPHER_NAMES.get(key.cipher)}, secret {'set' if key.secret else 'not set'}, "
                f"UploadPartCopy {'enabled' if key.upc else 'disabled'}")
            self.sock.sendall(plain(204, "No Content", b""))
        else:
            self.sock.sendall(plain(404, "Not Found", "no such control path\n"))
        return True

    @staticmethod
    def parse_key(body):
        try:
            d = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return "body: not JSON", None
        if not isinstance(d, dict):
            return "body: not a JSON object", None
        for f in d:
            if f not in ("pathCipher", "secretKey", "uploadPartCopy", "source"):
                return f"{f}: unknown field", None
        c = d.get("pathCipher")
        if isinstance(c, str) and c in CIPHERS:
            c = CIPHERS[c]
        if not isinstance(c, int) or isinstance(c, bool) or c not in CIPHER_NAMES:
            return "pathCipher: one of ENC_UNSPECIFIED, ENC_NULL, ENC_AESGCM, ENC_SECRETBOX", None
        if c == 0:
            c = CIPHERS["ENC_AESGCM"]  # storj/common: unspecified means AES-GCM
        sk = d.get("secretKey")
        if sk is not None and (not isinstance(sk, str) or not sk):
            return "secretKey: a non-empty string", None
        upc = d.get("uploadPartCopy", False)
        if not isinstance(upc, bool):
            return "uploadPartCopy: true or false", None
        src = d.get("source", "")
        if not isinstance(src, str) or len(src) > 64:
            return "source: a short string", None
        return None, Key(c, sk, upc, src)

    # -- S3 -------------------------------------------------------------------
    def refuse(self, req, status, reason, code, message, counter):
        """Answers locally; the request body, if any, is read and dropped
        unless the client waits for 100-continue (then the connection ends)."""
        fr = req.framing()
        expect = req.h("expect").lower() == "100-continue"
        close = fr[0] != "none" and expect
        if fr[0] != "none" and not expect:
            self.rd.copy_body(None, fr)
        self.st.count(counter, refused=True)
        log(f"{status} {code}: {req.method} /{req.bucket}/{req.key[:120]} ({counter})")
        self.sock.sendall(s3_error(status, reason, code, message, req, close))
        return not close

    def slow_down(self, req, op, limit, retry_after):
        """Storj's answer to a request over a limit (see the header): 429
        SlowDown, Retry-After but on a HEAD; never forwarded."""
        fr = req.framing()
        expect = req.h("expect").lower() == "100-continue"
        close = fr[0] != "none" and expect
        if fr[0] != "none" and not expect:
            self.rd.copy_body(None, fr)
        with self.st.lock:
            self.st.counters["refused"][limit] += 1
            n = self.st.counters["refused"][limit]
        if DEBUG or n & (n - 1) == 0:  # the 1st, 2nd, 4th, 8th... of each limit
            log(f"429 SlowDown ({limit}, {n} so far): {op} /{req.bucket}/{req.key[:120]}")
        data = s3_error(429, "Too Many Requests", "SlowDown", MSG_SLOW_DOWN, req, close)
        if retry_after and req.method != "HEAD":
            data = data.replace(b"\r\n", b"\r\nRetry-After: %d\r\n" % retry_after, 1)
        self.sock.sendall(data)
        return not close

    def s3(self, req):
        op = s3_op(req)
        now = time.monotonic()
        with self.st.lock:
            self.st.counters["requests"] += 1
            self.st.counters["ops"][op] += 1
            lim = self.st.limits
            limited = None
            if not lim.allow_request(now):
                limited = "rateLimit"
            elif op in ("PutObject", "CreateMultipartUpload") and \
                    not lim.allow_key_write(req.bucket + "/" + req.key, now):
                limited = "keyWriteLimit"
            retry_after = lim.retry_after
        if limited:
            return self.slow_down(req, op, limited, retry_after)
        key = self.st.key(req.access_key())
        qy = req.query
        m = req.method
        if m in ("GET", "HEAD") and req.bucket:
            target = req.key if req.key else qy.get("prefix", "")
            with self.st.lock:
                fail = self.st.faults.decide(target)
            if fail:
                fr = req.framing()
                if fr[0] != "none":
                    self.rd.copy_body(None, fr)
                if DEBUG:
                    log(f"debug: fault: 500 for {m} /{req.bucket}/{target[:160]}")
                self.sock.sendall(s3_error(500, "Internal Server Error", "InternalError",
                                           "We encountered an internal error. Please try again. "
                                           "(storjfront stand-in: an injected fault)", req, False))
                return True
        if m == "PUT" and req.key and "partNumber" in qy and "uploadId" in qy:
            if req.h("x-amz-copy-source"):
                if not key.upc:
                    return self.refuse(req, 501, "Not Implemented", "NotImplemented",
                                       MSG_NOT_IMPLEMENTED, "uploadPartCopy")
                return self.forward(req, after=self.part_copy_done)
            return self.forward(req, after=self.part_done)
        if m == "POST" and req.key and "uploadId" in qy and "uploads" not in qy:
            return self.complete(req)
        if m == "DELETE" and req.key and "uploadId" in qy:
            with self.st.lock:
                self.st.parts.pop(qy["uploadId"], None)
            return self.forward(req)
        if m == "GET" and req.bucket and not req.key:
            if "uploads" in qy:
                delim = qy.get("delimiter", "")
                if delim not in ("", "/"):
                    return self.refuse(req, 501, "Not Implemented", "NotImplemented",
                                       MSG_NOT_IMPLEMENTED, "delimiter")
                prefix = qy.get("prefix", "")
                if key.encrypted and (prefix == "" or prefix.endswith("/")):
                    return self.forward(req, transform=True)
                return self.forward(req)
            if set(qy) <= LIST_PARAMS:
                return self.listing(req, key)
        return self.forward(req)

    def gateway_call(self):
        """A request the gateway makes itself (a lookup or a page of a
        gateway-side listing) costs the project a satellite request too:
        whether the rate limit lets it through."""
        with self.st.lock:
            self.st.counters["gatewayRequests"] += 1
            return self.st.limits.allow_request(time.monotonic())

    def listing(self, req, key):
        prefix = req.query.get("prefix", "")
        delim = req.query.get("delimiter", "")
        if not key.encrypted:
            return self.forward(req)
        supported_prefix = prefix == "" or prefix.endswith("/")
        supported_delim = delim in ("", "/")
        if supported_prefix and supported_delim:
            return self.forward(req, transform=True)
        if self.opts.profile == "hosted":
            return self.refuse(req, 501, "Not Implemented", "NotImplemented", MSG_LISTING, "listing")
        if not key.secret:
            log("exhaustive listing needs the key's secret, which nobody registered")
            return self.refuse(req, 500, "Internal Server Error", "InternalError",
                               "storjfront stand-in: no secret key registered for this access key, "
                               "cannot list exhaustively", "listing")
        signer = Signer(self.opts.upstream, req.access_key(), key.secret, req.region())
        if not supported_prefix:
            # listObjectsSingle: the exact key, and "prefix/" with delimiter '/'
            self.st.count("singleLookups")
            if not self.gateway_call():
                return self.slow_down(req, "ListObjects", "rateLimit", self.st.limits.retry_after)
            status, _ = signer.request("HEAD", req.bucket, prefix)
            if status == 200:
                return self.forward(req)
            if delim == "/":
                if not self.gateway_call():
                    return self.slow_down(req, "ListObjects", "rateLimit", self.st.limits.retry_after)
                n, _, _ = signer.list_page(req.bucket, prefix + "/", "", "")
                if n:
                    return self.forward(req)
        # listObjectsExhaustive: everything under the last '/' of the prefix
        i = prefix.rfind("/")
        list_prefix = prefix[:i + 1] if i >= 0 else ""
        recursive = delim != "/"
        fetched, token, too_many = 0, "", False
        while True:
            if not self.gateway_call():
                return self.slow_down(req, "ListObjects", "rateLimit", self.st.limits.retry_after)
            n, more, token = signer.list_page(req.bucket, list_prefix, "" if recursive else "/", token)
            fetched += n
            if fetched > self.opts.exhaustive_limit:
                too_many = True
                break
            if not more:
                break
        self.st.count("exhaustiveListings")
        self.st.count("exhaustiveItems", min(fetched, self.opts.exhaustive_limit + 1))
        log(f"exhaustive listing of /{req.bucket}/{list_prefix} for prefix {prefix[:120]!r}: "
            f"{fetched}{'+' if too_many else ''} items")
        if too_many:
            return self.refuse(req, 501, "Not Implemented", "NotImplemented", MSG_TOO_MANY, "tooManyItems")
        return self.forward(req)

    def part_done(self, req, resp):
        if 200 <= resp.status < 300:
            size = req.h("x-amz-decoded-content-length") or req.h("content-length") or "0"
            with self.st.lock:
                self.st.parts.setdefault(req.query["uploadId"], {})[int(req.query["partNumber"])] = int(size)

    def part_copy_done(self, req, resp):
        if 200 <= resp.status < 300:
            m = re.match(r"bytes=(\d+)-(\d+)$", req.h("x-amz-copy-source-range"))
            size = int(m.group(2)) - int(m.group(1)) + 1 if m else None
            with self.st.lock:
                self.st.parts.setdefault(req.query["uploadId"], {})[int(req.query["partNumber"])] = size

    def complete(self, req):
        fr = req.framing()
        expect = req.h("expect").lower() == "100-continue"
        if expect and fr[0] != "none":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rd.read_body(fr, COMPLETE_BODY_MAX) if fr[0] != "none" else b""
        numbers = [int(n) for n in re.findall(rb"<PartNumber>\s*(\d+)\s*</PartNumber>", body)]
        upload = req.query["uploadId"]
        with self.st.lock:
            sizes = dict(self.st.parts.get(upload, {}))
        for n in numbers[:-1]:
            size = sizes.get(n)
            if size is not None and size < self.opts.min_part_size:
                self.st.count("entityTooSmall", refused=True)
                log(f"400 EntityTooSmall: part {n} of /{req.bucket}/{req.key[:120]} has {size} bytes")
                self.sock.sendall(s3_error(400, "Bad Request", "EntityTooSmall", MSG_TOO_SMALL, req, False))
                return True
        with self.st.lock:
            self.st.parts.pop(upload, None)
        return self.forward(req, body=body, client_continued=expect)

    def forward(self, req, transform=False, after=None, body=None, client_continued=False):
        """Sends the request upstream as it came and relays the answer.
        Returns whether the client connection may carry another request."""
        fr = req.framing()
        expect = req.h("expect").lower() == "100-continue"
        try:
            self.ensure_up()
        except OSError as e:
            log(f"upstream {self.opts.upstream[0]}:{self.opts.upstream[1]}: {e}")
            self.sock.sendall(s3_error(502, "Bad Gateway", "InternalError",
                                       "storjfront stand-in: upstream unreachable", req, True))
            return False
        body_sent = fr[0] == "none"
        try:
            self.up.sendall(req.raw)
            if body is not None:
                self.up.sendall(body)  # already read (and 100 already sent, if asked)
                body_sent = True
            elif not body_sent and not expect:
                self.rd.copy_body(self.up, fr)
                body_sent = True
        except OSError:
            pass  # the upstream may have answered early; read what it said
        while True:
            raw = self.up_rd.read_until(b"\r\n\r\n", HEAD_MAX)
            if raw is None:
                raise ProtoError("upstream closed without an answer")
            resp = Response(raw)
            if 100 <= resp.status < 200:
                if resp.status == 100 and not body_sent:
                    self.sock.sendall(raw)
                    self.rd.copy_body(self.up, fr)
                    body_sent = True
                elif not (resp.status == 100 and client_continued):
                    self.sock.sendall(raw)
                continue
            break
        rfr = resp.framing(True, req.method, resp.status)
        if DEBUG:
            log(f"debug:   -> {resp.status} {rfr}")
        keep = not resp.wants_close() and rfr[0] != "eof" and body_sent
        if transform and resp.status == 200 and rfr[0] != "none":
            data = self.up_rd.read_body(rfr, LIST_BODY_MAX)
            data, n = reorder_listing(data)
            if n:
                self.st.count("reordered")
            lines = [ln for ln in raw[:-4].split(b"\r\n")
                     if not ln.lower().startswith((b"content-length:", b"transfer-encoding:"))]
            lines.append(b"Content-Length: %d" % len(data))
            self.sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + data)
        else:
            self.sock.sendall(raw)
            self.up_rd.copy_body(self.sock, rfr)
        if after:
            after(req, resp)
        if not keep:
            self.close_up()
        return keep


# ---------------------------------------------------------------------------

def allowed_address(a):
    ip = ipaddress.ip_address(a)
    return ip.is_loopback or ip in ipaddress.ip_network("198.18.0.0/15")


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    return host, int(port)


def main():
    p = argparse.ArgumentParser(description="Storj-behaviour S3 front (a test stand-in, not Storj)")
    p.add_argument("--profile", choices=("hosted", "selfhosted"), default="selfhosted")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--listen", action="append", default=None, metavar="ADDR")
    p.add_argument("--upstream", default="127.0.0.1:7480")
    p.add_argument("--exhaustive-limit", type=int, default=100000)
    p.add_argument("--min-part-size", type=int, default=5 * 1024 * 1024)
    p.add_argument("--default-cipher", default="ENC_NULL", choices=sorted(CIPHERS))
    env = os.environ.get
    p.add_argument("--fail-one-in", type=int, default=env("FAIL_ONE_IN") or "0", metavar="N")
    p.add_argument("--fail-burst", type=int, default=env("FAIL_BURST") or "1", metavar="K")
    p.add_argument("--fail-scope", default=env("FAIL_SCOPE") or None, metavar="RE")
    p.add_argument("--fail-match", default=env("FAIL_MATCH") or None, metavar="RE")
    p.add_argument("--rate", type=float, default=env("RATE_LIMIT") or "100", metavar="R")
    p.add_argument("--burst", type=int, default=env("RATE_BURST") or None, metavar="N")
    p.add_argument("--key-write-rate", type=float, default=env("KEY_WRITE_RATE") or "1", metavar="R")
    p.add_argument("--key-write-burst", type=int, default=env("KEY_WRITE_BURST") or "3", metavar="N")
    p.add_argument("--retry-after", type=int, default=env("RETRY_AFTER") or "12", metavar="S")
    opts = p.parse_args()
    lim = {"rate": opts.rate, "keyWrites": {"rate": opts.key_write_rate, "burst": opts.key_write_burst},
           "retryAfter": opts.retry_after}
    if opts.burst is not None:
        lim["burst"] = opts.burst
    err, opts.limits = Limits.parse(lim)
    if err:
        p.error(err)
    err, vals = Faults.parse({"failOneIn": opts.fail_one_in, "failBurst": opts.fail_burst,
                              "failScope": opts.fail_scope, "failMatch": opts.fail_match})
    if err:
        p.error(err)
    opts.fail_one_in, opts.fail_burst, opts.fail_scope, opts.fail_match = vals
    opts.default_cipher = CIPHERS[opts.default_cipher] or CIPHERS["ENC_AESGCM"]
    opts.upstream = parse_hostport(opts.upstream)
    if not allowed_address(opts.upstream[0]):
        p.error("--upstream must be on loopback or 198.18.0.0/15")
    addrs = opts.listen or ["127.0.0.1"] + ([os.environ["HOST_IP"]] if os.environ.get("HOST_IP") else [])
    for a in addrs:
        if not allowed_address(a):
            p.error(f"listen address {a} is neither loopback nor in 198.18.0.0/15")
    state = State(opts)
    socks, port = [], opts.port
    for a in addrs:
        s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((a, port))
        except OSError as e:
            print(f"storjfront: cannot listen on {a}:{port}: {e}", file=sys.stderr)
            return 1
        s.listen(256)
        port = s.getsockname()[1]
        socks.append(s)
    where = ", ".join(f"{a}:{port}" for a in addrs)
    log(f"listening on {where}; Storj-behaviour S3 front (a stand-in, not Storj), profile "
        f"{opts.profile}, upstream {opts.upstream[0]}:{opts.upstream[1]}, exhaustive limit "
        f"{opts.exhaustive_limit}, default cipher {CIPHER_NAMES[opts.default_cipher]}"
        + (f", faults: one read in {opts.fail_one_in} (burst {opts.fail_burst})" if opts.fail_one_in else "")
        + (f", faults: every read matching {opts.fail_match.pattern!r}" if opts.fail_match else "")
        + (f", rate limit {opts.limits[0]:g}/s (burst {opts.limits[1]})" if opts.limits[0] else ", no rate limit")
        + (f", key writes {opts.limits[2]:g}/s (burst {opts.limits[3]})" if opts.limits[2] else ", no key-write limit"))

    def accept_loop(ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                continue
            threading.Thread(target=Conn(state, c).run, daemon=True).start()

    for s in socks[1:]:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    try:
        accept_loop(socks[0])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
