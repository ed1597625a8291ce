#!/usr/bin/env python3
"""regimages: push images to a registry through its API, fast, with the
digests, creation times, platforms and indexes a test chooses; and read back
what a repository holds. For the integration suites (test_retention_safety.sh).

  regimages.py push BASE SPEC [-j THREADS]
      BASE: http://127.0.0.1:PORT (loopback or 198.18.0.0/15 only).
      SPEC: a JSON file ('-': stdin), an array of entries pushed in order of
      kind (layers, then images in parallel, then indexes in the order given):
        {"id": "a1", "repo": "multi", "tags": ["build-1-amd64"],
         "arch": "amd64", "os": "linux", "created": "2024-03-01T00:00:00Z",
         "layer": "multi-1-amd64"}
            an OCI image: one layer (a real gzipped tar holding one small
            file made from the layer's name, so `docker pull` unpacks it;
            entries naming the same layer share one blob), a config with
            that architecture, os, "created" (omitted when null) and a label
            that makes each entry's config, hence its digest, its own
            (--salt, default random, changes every digest)
        {"id": "l", "repo": "multi", "tags": ["latest"], "index": ["a1", "a2"]}
            an OCI image index over earlier entries (each with its platform;
            an index entry nests as an index), pushed after them
      An entry without tags is pushed by digest (untagged). Prints
      {"digests": {id: digest}, "requests": N, "seconds": S}.
  regimages.py inventory BASE REPO [DIGEST...]
      {"tags": {tag: digest}, "present": [the DIGESTs that still answer 200]}
      (the tag list follows the registry's Link pages).

Python 3 standard library only; one kept-alive connection per thread.
"""
import argparse
import gzip
import hashlib
import http.client
import io
import ipaddress
import json
import os
import sys
import tarfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST,
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])


class Client:
    """Requests to the registry, one connection per thread."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        if u.scheme != "http" or not u.hostname:
            raise SystemExit("regimages: BASE must be http://HOST:PORT")
        host = "127.0.0.1" if u.hostname == "localhost" else u.hostname
        ip = ipaddress.ip_address(host)
        if not (ip.is_loopback or ip in ipaddress.ip_network("198.18.0.0/15")):
            raise SystemExit("regimages: only loopback or 198.18.0.0/15 registries")
        self.host, self.port = host, u.port or 80
        self.local = threading.local()
        self.count = 0
        self.lock = threading.Lock()

    def req(self, method, path, body=None, headers=None):
        """(status, headers dict lower-cased, body); one retry on a dropped
        kept-alive connection, none on an answer."""
        with self.lock:
            self.count += 1
        for attempt in (0, 1):
            c = getattr(self.local, "c", None)
            if c is None:
                c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                data = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.HTTPException, OSError):
                c.close()
                self.local.c = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def layer_of(name):
    """(gzipped tar, its digest, the tar's digest = diff_id)."""
    data = ("regimages layer " + name + "\n").encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("regimages/" + hashlib.sha256(name.encode()).hexdigest()[:16])
        ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
        t.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    gz = gzip.compress(tar, mtime=0)
    return gz, sha(gz), sha(tar)


def put_blob(cl, repo, data, digest):
    st, _, _ = cl.req("HEAD", f"/v2/{repo}/blobs/{digest}")
    if st == 200:
        return
    st, h, body = cl.req("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
    if st != 202 or "location" not in h:
        raise RuntimeError(f"POST upload in {repo}: {st} {body[:200]!r}")
    loc = urllib.parse.urlsplit(h["location"])
    q = (loc.query + "&" if loc.query else "") + "digest=" + urllib.parse.quote(digest)
    st, _, body = cl.req("PUT", loc.path + "?" + q, data,
                         {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
    if st != 201:
        raise RuntimeError(f"PUT blob {digest} in {repo}: {st} {body[:200]!r}")


def put_manifest(cl, repo, ref, data, mt, digest):
    st, h, body = cl.req("PUT", f"/v2/{repo}/manifests/{ref}", data, {"Content-Type": mt})
    if st != 201:
        raise RuntimeError(f"PUT manifest {repo}:{ref}: {st} {body[:300]!r}")
    got = h.get("docker-content-digest", digest)
    if got != digest:
        raise RuntimeError(f"{repo}:{ref}: the registry says {got}, expected {digest}")


def push(args):
    spec = json.load(sys.stdin if args.spec == "-" else open(args.spec))
    cl = Client(args.base)
    salt = args.salt or os.urandom(8).hex()
    t0 = time.time()
    layers = {}
    for e in spec:
        if "index" not in e:
            name = e.get("layer") or e["id"]
            if name not in layers:
                layers[name] = layer_of(name)
    done = {}  # id -> (digest, media type, size, platform)

    def upload_layer(rl):
        repo, name = rl
        gz, dg, _ = layers[name]
        put_blob(cl, repo, gz, dg)

    def image(e):
        name = e.get("layer") or e["id"]
        gz, ldg, diff = layers[name]
        cfg = {"architecture": e.get("arch", "amd64"), "os": e.get("os", "linux"),
               "config": {"Labels": {"org.storj-registry.test.image": f"{e['id']} {salt}"}},
               "rootfs": {"type": "layers", "diff_ids": [diff]}}
        if e.get("variant"):
            cfg["variant"] = e["variant"]
        if e.get("created"):
            cfg["created"] = e["created"]
            cfg["history"] = [{"created": e["created"], "created_by": "regimages.py"}]
        cb = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        cdg = sha(cb)
        put_blob(cl, e["repo"], cb, cdg)
        man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": OCI_CONFIG, "digest": cdg, "size": len(cb)},
               "layers": [{"mediaType": OCI_LAYER, "digest": ldg, "size": len(gz)}]}
        mb = json.dumps(man, sort_keys=True, separators=(",", ":")).encode()
        return finish(e, mb, OCI_MANIFEST, {"architecture": cfg["architecture"], "os": cfg["os"],
                                            **({"variant": e["variant"]} if e.get("variant") else {})})

    def index(e):
        ms = []
        for cid in e["index"]:
            dg, mt, size, plat = done[cid]
            d = {"mediaType": mt, "digest": dg, "size": size}
            if plat:
                d["platform"] = plat
            ms.append(d)
        ib = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": ms},
                        sort_keys=True, separators=(",", ":")).encode()
        return finish(e, ib, OCI_INDEX, None)

    def finish(e, data, mt, plat):
        dg = sha(data)
        for ref in e.get("tags") or [dg]:
            put_manifest(cl, e["repo"], ref, data, mt, dg)
        return e["id"], (dg, mt, len(data), plat)

    with ThreadPoolExecutor(args.j) as ex:
        need = sorted({(e["repo"], e.get("layer") or e["id"]) for e in spec if "index" not in e})
        list(ex.map(upload_layer, need))
        for k, v in ex.map(image, [e for e in spec if "index" not in e]):
            done[k] = v
    for e in spec:
        if "index" in e:
            k, v = index(e)
            done[k] = v
    print(json.dumps({"digests": {k: v[0] for k, v in done.items()}, "requests": cl.count,
                      "seconds": round(time.time() - t0, 2)}))


def inventory(args):
    cl = Client(args.base)
    repo = args.repo
    tags, path = [], f"/v2/{repo}/tags/list?n=1000"
    while path:
        st, h, body = cl.req("GET", path)
        if st == 404:
            break
        if st != 200:
            raise RuntimeError(f"tags list of {repo}: {st} {body[:200]!r}")
        tags += json.loads(body).get("tags") or []
        link = h.get("link", "")
        path = link[link.find("<") + 1:link.find(">")] if "<" in link else ""

    def head(ref):
        st, h, _ = cl.req("HEAD", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
        return ref, st, h.get("docker-content-digest")

    out = {"tags": {}, "present": []}
    with ThreadPoolExecutor(args.j) as ex:
        for ref, st, dg in ex.map(head, tags):
            out["tags"][ref] = dg if st == 200 else None
        for ref, st, _ in ex.map(head, args.digests):
            if st == 200:
                out["present"].append(ref)
            elif st != 404:
                raise RuntimeError(f"HEAD {repo}@{ref}: {st}")
    print(json.dumps(out, sort_keys=True))


def main():
    p = argparse.ArgumentParser(description="push test images through the registry API")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("push")
    a.add_argument("base")
    a.add_argument("spec")
    a.add_argument("-j", type=int, default=8)
    a.add_argument("--salt", default="")
    b = sub.add_parser("inventory")
    b.add_argument("base")
    b.add_argument("repo")
    b.add_argument("digests", nargs="*")
    b.add_argument("-j", type=int, default=8)
    args = p.parse_args()
    try:
        push(args) if args.cmd == "push" else inventory(args)
    except (RuntimeError, OSError, http.client.HTTPException) as e:
        print(f"regimages: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
