#!/bin/bash
# Packs the extension's per-architecture file systems into ONE multi-platform
# image: an OCI image layout (an image index over one image per platform)
# written as a tar to stdout. scripts/build-extension.sh runs it inside a
# container of the Dockerfile's `meta` stage, where /out/<arch>/rootfs are
# (no buildx needed).
#
#   oci-image REF EPOCH < CONFIG.json > IMAGE.oci.tar
#
#   REF          the image name, e.g. storj-registry-extension:0.1.0
#   EPOCH        seconds since 1970: every file's mtime and the images'
#                `created` (the same inputs give the same bytes)
#   CONFIG.json  {"Labels": {...}, "Cmd": [...]}: written into every
#                platform's image config
#
# Env: ARCHES (default: the architectures under /out), OUT (default /out).
#
# The tar holds:
#   oci-layout, index.json      OCI image layout 1.0: index.json names REF (the
#                               io.containerd.image.name and ref.name
#                               annotations) and points at the image index
#   blobs/sha256/...            the image index (one manifest per platform,
#                               with `platform`), the manifests, the configs
#                               (`architecture`, `os`, labels, command,
#                               rootfs.diff_ids), one gzip layer per platform
#   manifest.json               Docker's `docker save` format for the image of
#                               this machine's architecture, so that an engine
#                               with the classic image store (which cannot
#                               read OCI layouts before Engine 25) loads that
#                               one; the containerd image store reads the OCI
#                               layout and keeps every platform.
set -euo pipefail

REF=${1:?usage: oci-image REF EPOCH < CONFIG.json}
EPOCH=${2:?usage: oci-image REF EPOCH < CONFIG.json}
OUT=${OUT:-/out}
ARCHES=${ARCHES:-$(cd "$OUT" && ls -d -- */ | tr -d /)}
NATIVE=$(dpkg --print-architecture)
export LC_ALL=C

die() { echo "oci-image: $*" >&2; exit 1; }

META=$(jq -c '{Labels: (.Labels // {}), Cmd: (.Cmd // [])}') || die "stdin is not a JSON config"
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ) || die "bad EPOCH $EPOCH"

# docker.io/library/NAME:TAG, as Docker and containerd name images
case $REF in
  *@*) die "REF must be NAME:TAG, not a digest" ;;
esac
name=${REF%:*}
tag=${REF##*:}
[ "$name" != "$REF" ] && [[ $tag != */* ]] || { name=$REF; tag=latest; }
first=${name%%/*}
if [ "$first" = "$name" ]; then
  full="docker.io/library/$name:$tag"
elif [[ $first == *.* || $first == *:* || $first == localhost ]]; then
  full="$name:$tag"
else
  full="docker.io/$name:$tag"
fi

L=$(mktemp -d)
trap 'rm -rf "$L"' EXIT
mkdir -p "$L/blobs/sha256"

# put FILE into blobs/ under its digest; prints "DIGEST SIZE"
blob() {
  local d
  d=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$L/blobs/sha256/$d"
  echo "sha256:$d $(stat -c %s "$L/blobs/sha256/$d")"
}

manifests=()
native_config='' native_layer=''
for a in $ARCHES; do
  R=$OUT/$a/rootfs
  [ -x "$R/storj-registryd" ] || die "$R/storj-registryd missing"
  # one layer: the whole file system, owned by root, fixed times, sorted
  # (GNU tar's reproducible-archive options)
  top=()
  while IFS= read -r f; do top+=("$f"); done < <(cd "$R" && ls -A)
  (cd "$R" && tar --sort=name --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner \
    -cf - "${top[@]}") >"$L/layer.tar"
  diff_id=sha256:$(sha256sum "$L/layer.tar" | cut -d' ' -f1)
  gzip -n -9 "$L/layer.tar"
  read -r layer_digest layer_size < <(blob "$L/layer.tar.gz")

  jq -n -c --argjson meta "$META" --arg arch "$a" --arg created "$CREATED" --arg diff "$diff_id" '{
      created: $created, architecture: $arch, os: "linux",
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: $meta.Cmd, Labels: $meta.Labels },
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created: $created, created_by: "scripts/build-extension.sh: the Dockerfile build stage /out/\($arch)/rootfs as one layer"}]
    }' >"$L/config.json"
  read -r config_digest config_size < <(blob "$L/config.json")

  jq -n -c --arg cd "$config_digest" --argjson cs "$config_size" \
    --arg ld "$layer_digest" --argjson ls "$layer_size" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}]
    }' >"$L/manifest"
  read -r m_digest m_size < <(blob "$L/manifest")
  manifests+=("$(jq -n -c --arg d "$m_digest" --argjson s "$m_size" --arg arch "$a" '{
      mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
      platform: {architecture: $arch, os: "linux"}}')")
  if [ "$a" = "$NATIVE" ]; then
    native_config=blobs/sha256/${config_digest#sha256:}
    native_layer=blobs/sha256/${layer_digest#sha256:}
  fi
  echo "oci-image: linux/$a: manifest $m_digest, layer $layer_size bytes" >&2
done

printf '%s\n' "${manifests[@]}" | jq -s -c --arg created "$CREATED" --argjson meta "$META" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: .,
    annotations: ({"org.opencontainers.image.created": $created} +
      ($meta.Labels | with_entries(select(.key | test("^org\\.opencontainers\\.image\\.(title|version|source)$")))))
  }' >"$L/index"
read -r i_digest i_size < <(blob "$L/index")

jq -n -c --arg d "$i_digest" --argjson s "$i_size" --arg full "$full" --arg tag "$tag" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
      annotations: {"io.containerd.image.name": $full, "org.opencontainers.image.ref.name": $tag}}]
  }' >"$L/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
files=(oci-layout index.json blobs)
if [ -n "$native_config" ]; then
  jq -n -c --arg c "$native_config" --arg l "$native_layer" --arg ref "$REF" \
    '[{Config: $c, RepoTags: [$ref], Layers: [$l]}]' >"$L/manifest.json"
  files+=(manifest.json)
fi
echo "oci-image: $full: index $i_digest" >&2
tar -C "$L" --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner -cf - "${files[@]}"
