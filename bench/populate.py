#!/usr/bin/env python3
"""Fills a registry with many small repositories through its HTTP API (no
Docker needed), for the browse benchmark.

    populate.py REGISTRY_URL REPOS [THREADS]

Repository bench/rNNNN gets tags "v1" and "v2" (two images with their own
config and one small layer each); every 10th repository's "v2" is an image
index of linux/amd64 and linux/arm64 (multi-arch). Every image has a
creation time, as Docker writes it (v1 older than v2), for the clean-up
rules' preview. POPULATE_SALT (env) goes into every config, so that two
registries filled in one run share no digest (the backend caches by digest).
Prints what it pushed.
"""
import hashlib
import http.client
import json
import os
import sys
import threading
import urllib.parse

URL = urllib.parse.urlparse(sys.argv[1])
REPOS = int(sys.argv[2])
THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 16
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
SALT = os.environ.get("POPULATE_SALT", "")
local = threading.local()


def conn():
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=60)
    return local.c


def req(method, path, body=None, headers=None, ok=(200, 201, 202)):
    c = conn()
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if r.status not in ok:
        raise SystemExit("%s %s: HTTP %d %s" % (method, path, r.status, data[:200]))
    return r


def blob(repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    r = req("POST", "/v2/%s/blobs/uploads/" % repo, b"")
    loc = urllib.parse.urlparse(r.getheader("Location"))
    q = loc.query + ("&" if loc.query else "") + "digest=" + d
    req("PUT", loc.path + "?" + q, data, {"Content-Type": "application/octet-stream"})
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(data)}


def image(repo, seed, arch, created):
    cfg = json.dumps({"architecture": arch, "os": "linux", "created": created,
                      "rootfs": {"type": "layers", "diff_ids": []},
                      "config": {"Labels": {"seed": seed, "salt": SALT}}}).encode()
    c = blob(repo, cfg)
    c["mediaType"] = "application/vnd.oci.image.config.v1+json"
    layer = blob(repo, (seed * 64).encode())
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_M, "config": c, "layers": [layer]}).encode()


def put(repo, ref, doc, mt):
    d = "sha256:" + hashlib.sha256(doc).hexdigest()
    req("PUT", "/v2/%s/manifests/%s" % (repo, ref or d), doc, {"Content-Type": mt})
    return {"mediaType": mt, "digest": d, "size": len(doc)}


def one(i):
    repo = "bench/r%04d" % i
    v1, v2 = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
    put(repo, "v1", image(repo, "%s-v1" % repo, "amd64", v1), OCI_M)
    if i % 10 == 0:
        # the platform images are pushed by digest (untagged), as buildx does
        amd = put(repo, None, image(repo, "%s-v2a" % repo, "amd64", v2), OCI_M)
        arm = put(repo, None, image(repo, "%s-v2b" % repo, "arm64", v2), OCI_M)
        amd["platform"] = {"os": "linux", "architecture": "amd64"}
        arm["platform"] = {"os": "linux", "architecture": "arm64"}
        idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [amd, arm]}).encode()
        put(repo, "v2", idx, OCI_I)
    else:
        put(repo, "v2", image(repo, "%s-v2" % repo, "amd64", v2), OCI_M)


failed = []


def worker(ids):
    try:
        for i in ids:
            one(i)
    except (SystemExit, OSError, http.client.HTTPException) as e:
        failed.append(str(e))


ids = list(range(REPOS))
ts = [threading.Thread(target=worker, args=(ids[k::THREADS],)) for k in range(THREADS)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if failed:
    sys.exit("populate: " + failed[0])
print("populate: %d repositories, 2 tags each, %d multi-arch" % (REPOS, (REPOS + 9) // 10))
