#!/bin/bash
# "Run this for my team" (POST /api/team/export, backend/team.c) for real:
# the compose bundle exported from s3 settings on a Ceph RGW bucket is
# brought up with Debian's docker-compose on the test engine: two registry:3
# replicas (storj-registry-test/registry:3), Redis and haproxy built from
# Debian's packages (tests/env/team-images.sh), swapped in by an override
# file, the bundle itself unchanged. Secrets are filled in as the bundle's
# README says. Push through the balancer, stop one replica, pull through the
# balancer; the clean-up procedure of the README (every replica read-only,
# one garbage-collect). With the tab's TLS certificate: the export ships it
# and its key (0600 on disk, as every secret file), the balancer speaks HTTPS
# with them (curl --cacert, a push), the replicas behind it build https
# URLs. A second backend ("another desktop", its own state) with the same
# bucket settings sees the pushed image. The Kubernetes and
# Helm files are checked for shape with PyYAML only (untested on a cluster).
# No export holds a secret unless includeSecrets is asked.
set -uo pipefail
T_NAME=team
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
s3_up || { t_fail "Ceph RGW is up (see $WORK/ceph-s3.log)"; t_end; exit 1; }
command -v docker-compose >/dev/null || { t_fail "docker-compose is installed (scripts/install-deps.sh --test)"; t_end; exit 1; }
eval "$("$ROOT/tests/env/team-images.sh" 2>>"$WORK/team-images.log")" ||
  { t_fail "the haproxy and redis test images build (see $WORK/team-images.log)"; t_end; exit 1; }
remove_managed
rm -rf "$WORK/team-a.state" "$WORK/team-b.state" "$WORK/team-bundle"
BUCKET=srt-team-$RANDOM$RANDOM
t_check "bucket $BUCKET created in Ceph RGW" s3_mkbucket "$BUCKET"
start_backend team-a || { t_fail "backend starts"; t_end; exit 1; }

# ---- what the API refuses ------------------------------------------------
out=$(api POST /api/team/export '{}')
t_eq "nothing saved yet: 409" 409 "$(last_status)"
api PUT /api/config '{"mode":"local"}' >/dev/null
out=$(api POST /api/team/export '{"format":"compose"}')
t_eq "local mode cannot be shared: 409" 409 "$(last_status)"
t_check "the refusal says to pick a bucket mode" grep -q 'pick a bucket mode' <<<"$out"
for bad in '{"format":"swarm"}:format' '{"replicas":0}:replicas' '{"replicas":17}:replicas' \
  '{"replicas":"2"}:replicas' '{"port":70000}:port' '{"includeSecrets":"yes"}:includeSecrets' \
  '{"extra":1}:extra'; do
  out=$(api POST /api/team/export "${bad%:*}")
  t_eq "400 for ${bad%:*}" "400 ${bad##*:}" "$(last_status) $(jq -r .error.field <<<"$out")"
done

cfg=$(jq -n --arg b "$BUCKET" --arg e "$S3_HOST_ENDPOINT" --arg r "$S3_REGION" --arg a "$S3_ACCESS_KEY" \
  --arg s "$S3_SECRET_KEY" '{mode:"s3",bucket:$b,s3:{endpoint:$e,region:$r,accessKey:$a,secretKey:$s}}')
api PUT /api/config "$cfg" >/dev/null
t_eq "s3 settings saved" 200 "$(last_status)"

# ---- secrets only when asked --------------------------------------------
all=""
for f in compose kubernetes helm; do
  out=$(api POST /api/team/export "{\"format\":\"$f\",\"replicas\":3}")
  t_eq "$f export answers 200" 200 "$(last_status)"
  all+=$out
  echo "$out" >"$WORK/team-$f.json"
  api POST /api/team/export "{\"format\":\"$f\",\"replicas\":3,\"includeSecrets\":true}" >"$WORK/team-$f-secrets.json"
done
t_check "no export without includeSecrets holds the S3 secret or access key" \
  no_secret_in "$all" "$S3_SECRET_KEY" "$S3_ACCESS_KEY"
t_check "every secret file of the compose export holds a placeholder" \
  bash -c "jq -e '[.files[] | select(.secret) | .content | startswith(\"REPLACE-ME\")] | all and length == 3' '$WORK/team-compose.json' >/dev/null"
t_eq "with includeSecrets the secret key is in secrets/s3-secret-key" "$S3_SECRET_KEY" \
  "$(jq -r '.files[] | select(.path == "secrets/s3-secret-key") | .content' "$WORK/team-compose-secrets.json" | head -1)"
t_check "with includeSecrets the secret key is only in files marked secret" \
  bash -c "! jq -r '.files[] | select(.secret | not) | .content' '$WORK/team-compose-secrets.json' | grep -qF -- '$S3_SECRET_KEY'"
t_check "the backend log holds no secret" no_secret_in "$(cat "$BLOG")" "$S3_SECRET_KEY"

# ---- Kubernetes and Helm: shape (PyYAML), untested on a cluster ----------
shape() { # shape FORMAT: python3 checks on the export's files
  python3 - "$WORK/team-$1.json" "$WORK/team-$1-secrets.json" "$1" <<'EOF'
import json, sys, yaml
plain, secret, fmt = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
files = {f["path"]: f for f in plain["files"]}
def fail(msg):
    print(msg); sys.exit(1)
if fmt == "kubernetes":
    docs = list(yaml.safe_load_all(files["registry.yaml"]["content"]))
    kinds = [d["kind"] for d in docs]
    for k in ("Secret", "ConfigMap", "Deployment", "Service"):
        if k not in kinds: fail("no %s in %s" % (k, kinds))
    reg = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "storj-registry"][0]
    if reg["spec"]["replicas"] != 3: fail("replicas %r" % reg["spec"]["replicas"])
    if reg["spec"]["selector"]["matchLabels"] != reg["spec"]["template"]["metadata"]["labels"]: fail("selector")
    c = reg["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    for n in ("REGISTRY_HTTP_SECRET", "REGISTRY_STORAGE_S3_ACCESSKEY", "REGISTRY_STORAGE_S3_SECRETKEY"):
        if "secretKeyRef" not in env[n]["valueFrom"]: fail(n + " not from the Secret")
    cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
    conf = yaml.safe_load(cm["data"]["config.yml"])
    if conf["storage"]["cache"]["blobdescriptor"] != "redis": fail("cache")
    if not conf["storage"]["s3"]["forcepathstyle"]: fail("path style")
    if "secretkey" in conf["storage"]["s3"]: fail("secret key in the ConfigMap")
    redis = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "storj-registry-redis"][0]
    if "allkeys-lru" not in redis["spec"]["template"]["spec"]["containers"][0]["args"]: fail("allkeys-lru")
    sec = [d for d in docs if d["kind"] == "Secret"][0]["stringData"]
    if not all(v.startswith("REPLACE-ME") for v in sec.values()): fail("a Secret value is no placeholder")
    sdocs = list(yaml.safe_load_all({f["path"]: f for f in secret["files"]}["registry.yaml"]["content"]))
    ssec = [d for d in sdocs if d["kind"] == "Secret"][0]["stringData"]
    if any(v.startswith("REPLACE-ME") for v in ssec.values()): fail("includeSecrets left a placeholder")
    if len(set(ssec["httpSecret"])) < 8 or len(ssec["httpSecret"]) < 32: fail("http secret too short")
elif fmt == "helm":
    v = yaml.safe_load(files["values.yaml"]["content"])
    if v["replicaCount"] != 3 or v["storage"] != "s3": fail("replicaCount/storage")
    if not v["secrets"]["haSharedSecret"]: fail("haSharedSecret must be explicit")
    if not v["secrets"]["haSharedSecret"].startswith("REPLACE-ME"): fail("haSharedSecret without includeSecrets")
    if not v["configData"]["storage"]["s3"]["forcepathstyle"]: fail("configData path style")
    if v["configData"]["storage"]["s3"]["chunksize"] != 67108864: fail("configData chunksize")
    if v["configData"]["redis"]["addrs"] != ["storj-registry-redis:6379"]: fail("configData redis")
    for k in ("region", "regionEndpoint", "bucket"):
        if not v["s3"].get(k): fail("s3." + k)
    redis = list(yaml.safe_load_all(files["redis.yaml"]["content"]))
    if [d["kind"] for d in redis] != ["Deployment", "Service"]: fail("redis.yaml")
    sv = yaml.safe_load({f["path"]: f for f in secret["files"]}["values.yaml"]["content"])
    if sv["secrets"]["haSharedSecret"].startswith("REPLACE-ME") or len(sv["secrets"]["haSharedSecret"]) < 32:
        fail("includeSecrets: haSharedSecret")
    if "untested on a cluster" not in files["README.md"]["content"]: fail("README says untested")
EOF
}
t_check "kubernetes: Secret, ConfigMap, Deployment (3 replicas), Service, Redis (allkeys-lru) parse and fit" shape kubernetes
t_check "helm: twuni values (replicaCount, explicit haSharedSecret, s3, configData) and redis.yaml parse and fit" shape helm

# ---- the compose bundle, brought up ------------------------------------------
api POST /api/team/export '{"format":"compose","replicas":2}' >"$WORK/team-bundle.json"
B=$WORK/team-bundle
mkdir -p "$B"
python3 - "$WORK/team-bundle.json" "$B" <<'EOF'
import json, os, sys
for f in json.load(open(sys.argv[1]))["files"]:
    p = os.path.join(sys.argv[2], f["path"])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as fh:
        fh.write(f["content"])
    os.chmod(p, int(f["mode"], 8))
EOF
t_check "compose.yaml and config.yml are YAML" python3 -c "import yaml,sys; [yaml.safe_load(open(sys.argv[1] + f)) for f in ('/compose.yaml', '/config.yml')]" "$B"
PROJECT=srt-team-$$
PORT=$(free_port)
# the test's only change: local images (no Docker Hub here), in an override
cat >"$B/override.yaml" <<EOF
services:
  registry-1: {image: "$REG_IMAGE"}
  registry-2: {image: "$REG_IMAGE"}
  redis: {image: "$REDIS_IMAGE"}
  balancer: {image: "$HAPROXY_IMAGE"}
EOF
# the balancer on loopback only, on a free port (the bundle's own variables)
export REGISTRY_BIND=127.0.0.1 REGISTRY_PORT=$PORT
compose() { (cd "$B" && timeout 180 docker-compose -p "$PROJECT" -f compose.yaml -f override.yaml "$@"); }
t_check "docker-compose accepts the bundle" compose config -q
cleanup_compose() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup_compose EXIT

# with the placeholders still in place the registries refuse to start
compose up -d >"$WORK/team-up0.log" 2>&1
wait_until 30 bash -c "$DOCKER logs ${PROJECT}_registry-1_1 2>&1 | grep -q 'still holds its placeholder'"
t_check "a registry with a placeholder secret stops and names the file" \
  bash -c "$DOCKER logs ${PROJECT}_registry-1_1 2>&1 | grep -q '/run/secrets/http-secret still holds its placeholder'"
compose down >/dev/null 2>&1

# step 1 of the bundle's README
(cd "$B" && openssl rand -hex 32 >secrets/http-secret && printf '%s\n' "$S3_ACCESS_KEY" >secrets/s3-access-key &&
  printf '%s\n' "$S3_SECRET_KEY" >secrets/s3-secret-key && chmod 600 secrets/*)
up() { compose up -d >"$WORK/team-up.log" 2>&1 || { tail -5 "$WORK/team-up.log"; return 1; }; }
t_check "docker-compose up -d" up
net=$($DOCKER network inspect "${PROJECT}_default" -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' 2>/dev/null)
in_test_range() { case $1 in "198.18."*/*" " | "198.19."*/*" ") return 0 ;; *) return 1 ;; esac; }
t_check "the compose network ($net) is in 198.18.0.0/15" in_test_range "$net"
ports=$($DOCKER port "${PROJECT}_balancer_1" 2>/dev/null)
t_eq "the balancer publishes on 127.0.0.1 only" "8080/tcp -> 127.0.0.1:$PORT" "$ports"
v2_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/v2/")" = 200 ]; }
t_check "the registries answer through the balancer" wait_until 60 v2_ok
facts=$(container_facts "${PROJECT}_registry-1_1")
t_check "no secret in a replica's Env, Labels, Cmd or HostConfig" no_secret_in "$facts" "$S3_SECRET_KEY" "$(cat "$B/secrets/http-secret")"

# both replicas answering and past the balancer's health checks (every 2 s,
# up after 2) before the push, so that it spreads over both
replica_up() { $DOCKER exec "${PROJECT}_balancer_1" true 2>/dev/null && [ "$($DOCKER inspect -f '{{.State.Running}}' "${PROJECT}_$1_1")" = true ]; }
wait_until 30 replica_up registry-1
wait_until 30 replica_up registry-2
sleep 6
id=$("$ROOT/tests/env/random-image.sh" srt-src/teamtrip:1 4 512)
$DOCKER tag srt-src/teamtrip:1 "localhost:$PORT/teamtrip:1"
t_check "push through the balancer" bash -c "$DOCKER push localhost:$PORT/teamtrip:1 >'$WORK/team-push.log' 2>&1"
served=$(compose logs balancer 2>/dev/null | grep -oE 'replicas/registry-[0-9]+ [^"]*"(POST|PATCH|PUT) ' | grep -oE 'registry-[0-9]+' | sort -u | tr '\n' ' ')
t_eq "the push was spread over both replicas" "registry-1 registry-2 " "$served"
keys=$("$ROOT/tests/env/s3-list.sh" "$BUCKET")
t_check "blobs landed in the bucket" grep -q '^docker/registry/v2/repositories/teamtrip/_manifests/tags/1/current/link$' <<<"$keys"

compose stop registry-2 >/dev/null 2>&1
t_eq "registry-2 stopped" exited "$($DOCKER inspect -f '{{.State.Status}}' "${PROJECT}_registry-2_1")"
$DOCKER rmi "localhost:$PORT/teamtrip:1" srt-src/teamtrip:1 >/dev/null
t_check "pull through the balancer with one replica down" bash -c "$DOCKER pull localhost:$PORT/teamtrip:1 >'$WORK/team-pull.log' 2>&1"
t_eq "the pulled image is the pushed one" "$id" "$($DOCKER image inspect -f '{{.Id}}' "localhost:$PORT/teamtrip:1" 2>/dev/null)"

# ---- the README's clean-up: every replica read-only, one garbage-collect --
# (Debian's docker-compose 1.29 cannot recreate containers on Engine 25+,
# KeyError 'ContainerConfig', so they are removed first, as README says)
compose rm -fs registry-1 registry-2 >/dev/null 2>&1
REGISTRY_READONLY=true compose up -d >"$WORK/team-ro.log" 2>&1
t_check "read-only replicas answer through the balancer" wait_until 60 v2_ok
$DOCKER rmi "localhost:$PORT/teamtrip:1" >/dev/null
t_check "read-only: pulls work" bash -c "$DOCKER pull localhost:$PORT/teamtrip:1 >/dev/null 2>&1"
"$ROOT/tests/env/random-image.sh" srt-src/teamro:1 1 64 >/dev/null
$DOCKER tag srt-src/teamro:1 "localhost:$PORT/teamro:1"
$DOCKER push "localhost:$PORT/teamro:1" >"$WORK/team-ro-push.log" 2>&1
# Engine 28 prints "405 Method Not Allowed"; Engine 20.10 "error parsing HTTP 405 response body"
t_check "read-only: a push is refused (405), not hung" grep -qE '405 Method Not Allowed|HTTP 405 response' "$WORK/team-ro-push.log"
gc=$(compose run --rm --no-deps registry-1 garbage-collect --delete-untagged /etc/distribution/config.yml 2>&1)
t_check "garbage-collect runs once with the bundle's configuration" grep -q 'blobs marked' <<<"$gc"
t_check "and keeps the image's blobs" grep -q 'teamtrip: marking manifest' <<<"$gc"
$DOCKER rmi "localhost:$PORT/teamro:1" srt-src/teamro:1 >/dev/null 2>&1

# ---- TLS: the bundle ships the tab's certificate and key; the balancer ------
# speaks HTTPS with them, the replicas plain HTTP behind it
cleanup_compose
TLS=$WORK/team-tls
rm -rf "$TLS" && mkdir -p "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$TLS/key.pem" -out "$TLS/cert.pem" >/dev/null 2>&1 || t_fail "tls: openssl made a test certificate"
api PUT /api/config "$(jq -nc --rawfile c "$TLS/cert.pem" --rawfile k "$TLS/key.pem" '{tls:{certificate:$c,key:$k}}')" >/dev/null
t_eq "tls: certificate and key saved" 200 "$(last_status)"
api POST /api/team/export '{"format":"compose","replicas":2,"includeSecrets":true}' >"$WORK/team-tls.json"
t_eq "tls: compose export with the secrets answers 200" 200 "$(last_status)"
BT=$WORK/team-bundle-tls
rm -rf "$BT" && mkdir -p "$BT"
python3 - "$WORK/team-tls.json" "$BT" <<'PY'
import json, os, sys
for f in json.load(open(sys.argv[1]))["files"]:
    p = os.path.join(sys.argv[2], f["path"])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as fh:
        fh.write(f["content"])
    os.chmod(p, int(f["mode"], 8))
PY
t_eq "tls: secrets/tls.key is the tab's key, mode 600" "600 same" \
  "$(stat -c %a "$BT/secrets/tls.key") $(cmp -s "$BT/secrets/tls.key" "$TLS/key.pem" && echo same)"
not600=$(jq -r '.files[] | select(.secret) | .path' "$WORK/team-tls.json" |
  while read -r f; do [ "$(stat -c %a "$BT/$f")" = 600 ] || echo "$f"; done)
t_eq "tls: every file that holds a secret is 600 on disk" "" "$not600"
t_check "tls: config.yml names no file of the desktop's (no http.tls: TLS is the balancer's)" \
  bash -c "! grep -qE 'tls:|/etc/storj-registry' '$BT/config.yml'"
PROJECT_TLS=srt-team-tls-$$
PORT_TLS=$(free_port)
cp "$B/override.yaml" "$BT/override.yaml" # the same change: local images
compose_tls() { (cd "$BT" && REGISTRY_PORT=$PORT_TLS timeout 180 docker-compose -p "$PROJECT_TLS" -f compose.yaml -f override.yaml "$@"); }
cleanup_tls() { compose_tls down -v --remove-orphans >/dev/null 2>&1 || true; }
trap cleanup_tls EXIT
t_check "tls: docker-compose accepts the bundle" compose_tls config -q
up_tls() { compose_tls up -d >"$WORK/team-tls-up.log" 2>&1 || { tail -5 "$WORK/team-tls-up.log"; return 1; }; }
t_check "tls: docker-compose up -d" up_tls
v2_tls() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$TLS/cert.pem" "https://localhost:$PORT_TLS/v2/")" = 200 ]; }
t_check "tls: the registries answer through the balancer over HTTPS (curl --cacert)" wait_until 60 v2_tls
v2_tls || compose_tls logs balancer 2>&1 | tail -20
t_check "tls: no plain HTTP on the balancer's port" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 'http://127.0.0.1:$PORT_TLS/v2/')\" != 200 ]"
loc=$(curl -s -o /dev/null -D - --cacert "$TLS/cert.pem" -X POST "https://localhost:$PORT_TLS/v2/teamtls/blobs/uploads/" |
  tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
t_check "tls: the replicas build https upload URLs from X-Forwarded-Proto (${loc:0:60})" \
  bash -c "[[ '$loc' == https://localhost:$PORT_TLS/v2/teamtls/blobs/uploads/* ]]"
# "NAME UID" of each process in the balancer, the haproxy user's uid as "haproxy"
procs=$($DOCKER exec "${PROJECT_TLS}_balancer_1" sh -c 'h=$(id -u haproxy); for s in /proc/[0-9]*/status; do
  awk -v h="$h" "/^Name:/ {n = \$2} /^Uid:/ {print n, (\$2 == h ? \"haproxy\" : \$2)}" "$s"; done' 2>&1 | sort -u | tr '\n' ' ')
t_check "tls: haproxy read the key as root, its worker serves as user haproxy ($procs)" \
  grep -q 'haproxy haproxy' <<<"$procs"
"$ROOT/tests/env/random-image.sh" srt-src/teamtls:1 2 256 >/dev/null
$DOCKER tag srt-src/teamtls:1 "localhost:$PORT_TLS/teamtls:1"
t_check "tls: push through the HTTPS balancer" bash -c "$DOCKER push localhost:$PORT_TLS/teamtls:1 >'$WORK/team-tls-push.log' 2>&1"
t_eq "tls: the manifest is served over HTTPS" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/cert.pem" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "https://localhost:$PORT_TLS/v2/teamtls/manifests/1")"
$DOCKER rmi "localhost:$PORT_TLS/teamtls:1" srt-src/teamtls:1 >/dev/null 2>&1
cleanup_tls
trap - EXIT
rm -rf "$BT" "$TLS"
api PUT /api/config '{"tls":null}' >/dev/null
t_eq "tls: certificate cleared" 200 "$(last_status)"

# ---- another desktop on the same bucket ------------------------------------
stop_backend || t_fail "backend A exits cleanly"
start_backend team-b || { t_fail "backend B starts"; t_end; exit 1; }
PORT_B=$(free_port)
api PUT /api/config "$(jq --argjson p "$PORT_B" '. + {port: $p}' <<<"$cfg")" >/dev/null
t_eq "desktop B saved the same bucket settings" 200 "$(last_status)"
api POST /api/registry/start >/dev/null
t_check "desktop B's registry runs" wait_state running 90
repos=$(api GET /api/repositories)
t_eq "desktop B sees the image pushed through the team balancer" '"1"' \
  "$(jq -c '.repositories[] | select(.name == "teamtrip") | .tags[0].tag' <<<"$repos")"
api DELETE /api/registry >/dev/null
wait_state stopped 60
stop_backend || t_fail "backend B exits cleanly"
remove_managed

cleanup_compose
trap - EXIT
t_check "compose down leaves no container of the project" bash -c "[ -z \"\$($DOCKER ps -aq --filter label=com.docker.compose.project=$PROJECT)\" ]"
$DOCKER rmi "localhost:$PORT/teamtrip:1" >/dev/null 2>&1
rm -rf "$B"
s3_rmbucket "$BUCKET" || echo "# could not remove bucket $BUCKET"
t_end
