#!/bin/bash
# bench/oci-rootfs.sh OCI-TAR DIR: unpacks the amd64 image of the extension's
# OCI archive (scripts/build-extension.sh) into DIR/rootfs, so that a bench
# can run the shipped backend in a chroot.
set -euo pipefail
OCI=$1 D=$2
rm -rf "$D/oci" "$D/rootfs"; mkdir -p "$D/oci" "$D/rootfs"
tar -xf "$OCI" -C "$D/oci"
layers=$(python3 - "$D/oci" <<'PY'
import json, sys
d = sys.argv[1]
blob = lambda g: "%s/blobs/sha256/%s" % (d, g.split(":")[1])
m = json.load(open(blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])))
for x in m.get("manifests", []):
    if x.get("platform", {}).get("architecture") == "amd64":
        m = json.load(open(blob(x["digest"])))
print(" ".join(blob(l["digest"]) for l in m["layers"]))
PY
)
for l in $layers; do tar -xf "$l" -C "$D/rootfs"; done
mkdir -p "$D/rootfs/proc"
