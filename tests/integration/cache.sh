# The Docker Hub cache on the real engine, shared by test_cache.sh (local
# mode) and test_cache_s3.sh (s3 and storj modes on Ceph): source after
# tests/lib.sh and lib.sh, then call cache_suite MODE...
#
# Docker Hub's STAND-IN is a real registry (distribution v3.0.0, the test
# image) on the engine's bridge that asks for a login, as Docker Hub does
# with a user and an access token. For each mode: the cache starts and stops
# with the registry on its own port (9998 on engine 20, 9997 on 28, where the test engines look for
# their Docker Hub mirror: tests/env/docker-engine.sh) and its own storage
# root; the first pull goes through it (by name, and as Docker Desktop uses
# it, through registry-mirrors), the second is served with the upstream
# stopped; the tab lists what it holds; a push to it is refused; it shows in
# status and logs; the Docker Hub token is in no answer, log, label or
# environment. Needs CACHE_PORT free on 127.0.0.1.

CACHE_PORT=${SRT_MIRROR_PORT:-$([ "${SRT_ENGINE:-20}" = 28 ] && echo 9997 || echo 9998)}
HUB_NAME=srt-hub-standin
HUB_USER=hubuser
HUB_TOKEN="dckr_pat_StandinToken$RANDOM$RANDOM"
CACHE_ANSWERS=$WORK/cache-answers.txt

# capi: api that keeps every answer, searched for the token at the end
capi() { local out; out=$(api "$@"); printf '%s\n' "$out" >>"$CACHE_ANSWERS"; printf '%s' "$out"; }
status_has() { api GET /api/status | jq -e "$1" >/dev/null; }

# hub_start: the upstream stand-in with a login and two images in it;
# sets HUB_URL (its bridge address, as the cache reaches it), HUB_FIXED_URL
# (a port published on $HOST_IP: the same after a stop and start, when the
# engine may give the container another address), HUB_IDS
hub_start() {
  local ctx hport hport2 hash
  $DOCKER rm -f "$HUB_NAME" >/dev/null 2>&1
  hash=$(python3 -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$HUB_TOKEN" 2>/dev/null) || return 1
  hport=$(free_port)
  hport2=$(free_port)
  while [ "$hport2" = "$hport" ]; do hport2=$(free_port); done
  HUB_FIXED_URL=http://$HOST_IP:$hport2
  $DOCKER create --name "$HUB_NAME" -p "127.0.0.1:$hport:5000" -p "$HOST_IP:$hport2:5000" \
    -e REGISTRY_AUTH=htpasswd -e "REGISTRY_AUTH_HTPASSWD_REALM=Docker Hub stand-in" \
    -e REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd -e OTEL_TRACES_EXPORTER=none \
    -e REGISTRY_HTTP_ADDR=:5000 -e REGISTRY_LOG_LEVEL=info \
    "$REG_IMAGE" >/dev/null || return 1
  ctx=$(mktemp -d)
  mkdir "$ctx/auth"
  echo "$HUB_USER:$hash" >"$ctx/auth/htpasswd"
  $DOCKER cp "$ctx/auth" "$HUB_NAME:/" || { rm -rf "$ctx"; return 1; }
  rm -rf "$ctx"
  $DOCKER start "$HUB_NAME" >/dev/null || return 1
  wait_until 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hport/v2/)\" = 401 ]" || return 1
  HUB_URL=http://$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$HUB_NAME"):5000
  case $HUB_URL in http://198.1[89].*) ;; *) echo "the stand-in is not on a 198.18.0.0/15 bridge: $HUB_URL"; return 1 ;; esac
  # two "Docker Hub" images: pushed with the user's login
  echo "$HUB_TOKEN" | $DOCKER login -u "$HUB_USER" --password-stdin "127.0.0.1:$hport" >/dev/null 2>&1 || return 1
  local name
  HUB_IDS=()
  for name in srtcache-a srtcache-b; do
    HUB_IDS+=("$("$ROOT/tests/env/random-image.sh" "srt-src/$name:1" 2 256)") || return 1
    $DOCKER tag "srt-src/$name:1" "127.0.0.1:$hport/library/$name:1" &&
      $DOCKER push "127.0.0.1:$hport/library/$name:1" >"$WORK/hub-push.log" 2>&1 || { tail -3 "$WORK/hub-push.log"; return 1; }
    $DOCKER rmi "srt-src/$name:1" "127.0.0.1:$hport/library/$name:1" >/dev/null
  done
  $DOCKER logout "127.0.0.1:$hport" >/dev/null 2>&1
}

# pull_logged REF: docker pull REF, its output to the mode's pull log
pull_logged() { $DOCKER pull "$1" >>"$WORK/cache-pull.log" 2>&1; }
# jq_ok FILTER JSON: the filter holds for the JSON
jq_ok() { jq -e "$1" <<<"$2" >/dev/null; }

# pulled_id REF: the id of the local image REF (empty when absent)
pulled_id() { $DOCKER image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

# cache_settings MODE: the PUT /api/config body of the mode, cache on
cache_settings() {
  local cache
  cache=$(jq -cn --argjson p "$CACHE_PORT" --arg u "$HUB_URL" --arg n "$HUB_USER" --arg t "$HUB_TOKEN" \
    '{enabled: true, port: $p, upstream: $u, username: $n, token: $t, ttl: "2h"}')
  case $1 in
    local) echo "{\"mode\":\"local\",\"port\":$PORT,\"cache\":$cache}" ;;
    s3) jq -cn --arg b "$BUCKET" --arg e "$S3_HOST_ENDPOINT" --arg r "$S3_REGION" --arg a "$S3_ACCESS_KEY" \
      --arg s "$S3_SECRET_KEY" --argjson p "$PORT" --argjson c "$cache" \
      '{mode: "s3", port: $p, bucket: $b, s3: {endpoint: $e, region: $r, accessKey: $a, secretKey: $s}, cache: $c}' ;;
    storj) echo "{\"mode\":\"storj\",\"port\":$PORT,\"bucket\":\"$BUCKET\",\"accessGrant\":\"$SAMPLE_GRANT\",\"cache\":$cache}" ;;
  esac
}

# s3_keys PREFIX: the object keys of $BUCKET under PREFIX (one per line),
# as Ceph itself lists them (whoever owns the bucket)
s3_keys() {
  timeout 60 radosgw-admin -c "$CEPH_CONF" bucket list --bucket="$BUCKET" --max-entries=100000 2>/dev/null |
    jq -r --arg p "$1" '.[] | .name | select(startswith($p))'
}

# cache_mode MODE: one full round in MODE
cache_mode() {
  local mode=$1 body st
  echo "# ---- mode $mode"
  remove_managed
  $DOCKER volume rm -f storj-registry-cache >/dev/null 2>&1
  PORT=$(free_port)
  # storj mode: the bucket is made below by the gateway keys' Ceph user
  [ "$mode" = local ] || BUCKET=srt-cache-$RANDOM$RANDOM
  [ "$mode" != s3 ] || s3_mkbucket "$BUCKET" || t_fail "$mode: bucket $BUCKET created"
  rm -rf "$WORK/cache-$mode.state"
  start_backend "cache-$mode" || { t_fail "$mode: backend starts"; return; }

  # bad input: 400 naming the field, nothing saved
  local c
  for c in "{\"mode\":\"local\",\"port\":$PORT,\"cache\":{\"enabled\":true,\"port\":$PORT}}|cache.port" \
    '{"cache":{"enabled":true,"ttl":"7d"}}|cache.ttl' '{"cache":{"upstream":"registry-1.docker.io"}}|cache.upstream' \
    '{"cache":{"token":"x"}}|cache.username' '{"cache":{"enabled":"yes"}}|cache.enabled'; do
    body=$(capi PUT /api/config "${c%|*}")
    t_eq "$mode: ${c%|*}: 400 naming ${c#*|}" "400 ${c#*|}" "$(last_status) $(jq -r .error.field <<<"$body")"
  done
  t_eq "$mode: nothing saved by the bad bodies" false "$(capi GET /api/config | jq .cache.enabled)"

  body=$(capi PUT /api/config "$(cache_settings "$mode")")
  t_eq "$mode: settings with the cache saved" 200 "$(last_status)"
  t_eq "$mode: the token shows only as set" '{"set":true}' "$(jq -c .cache.token <<<"$body")"
  t_eq "$mode: the cache's settings" "true $CACHE_PORT $HUB_URL $HUB_USER 2h" \
    "$(jq -r '.cache | "\(.enabled) \(.port) \(.upstream) \(.username) \(.ttl)"' <<<"$body")"
  if [ "$mode" = storj ]; then
    local gw_ak gw_sk
    gw_ak=$(jq -r .gwAccessKey "$STATE/settings.json")
    gw_sk=$(jq -r .gwSecretKey "$STATE/settings.json")
    "$ROOT/tests/env/s3-user.sh" "$gw_ak" "$gw_sk" "$BUCKET" >/dev/null 2>&1 || t_fail "storj: Ceph user for the gateway keys"
  fi
  api POST /api/registry/start >/dev/null
  t_check "$mode: registry and cache running" wait_until 120 status_has '.state == "running" and .cache.state == "running"'
  st=$(capi GET /api/status)
  echo "# $mode: $(jq -c '.cache' <<<"$st")"
  t_eq "$mode: status.cache" "true localhost:$CACHE_PORT http://localhost:$CACHE_PORT $HUB_URL 2h" \
    "$(jq -r '.cache | "\(.healthy) \(.endpoint) \(.mirror) \(.upstream) \(.ttl)"' <<<"$st")"
  if [ "$mode" = local ]; then
    t_eq "$mode: it stores in its own volume" "volume storj-registry-cache" "$(jq -r .cache.storage <<<"$st")"
  else
    t_eq "$mode: it stores under its own prefix" "bucket $BUCKET, prefix docker-hub-cache/" "$(jq -r .cache.storage <<<"$st")"
  fi
  t_eq "$mode: the cache container is listed" "storj-registry-cache running healthy" \
    "$(jq -r '.containers[] | select(.role == "cache") | "\(.name) \(.state) \(.health)"' <<<"$st")"
  t_eq "$mode: its labels" "cache true" \
    "$($DOCKER inspect -f '{{index .Config.Labels "io.storj.registry.role"}} {{index .Config.Labels "io.storj.registry.managed"}}' storj-registry-cache)"
  local cfg
  cfg=$(container_file storj-registry-cache /etc/storj-registry/config.yml)
  t_check "$mode: the cache's config names the upstream, proxy mode" bash -c 'grep -q "\"remoteurl\": \"$1\"" <<<"$2"' _ "$HUB_URL" "$cfg"
  [ "$mode" = local ] || t_check "$mode: the cache's root is docker-hub-cache" bash -c 'grep -q "\"rootdirectory\": \"/docker-hub-cache\"" <<<"$1"' _ "$cfg"

  # the first pull goes through to the upstream, by name ...
  $DOCKER rmi "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" srtcache-b:1 >/dev/null 2>&1
  t_check "$mode: docker pull 127.0.0.1:$CACHE_PORT/library/srtcache-a:1 through the cache" pull_logged "127.0.0.1:$CACHE_PORT/library/srtcache-a:1"
  t_eq "$mode: the same image as upstream" "${HUB_IDS[0]}" "$(pulled_id "127.0.0.1:$CACHE_PORT/library/srtcache-a:1")"
  # ... and as Docker Desktop uses it: a Docker Hub name, through registry-mirrors
  t_check "$mode: docker pull srtcache-b:1 (a Docker Hub name) through the engine's mirror" pull_logged srtcache-b:1
  t_eq "$mode: the same image as upstream, by the mirror" "${HUB_IDS[1]}" "$(pulled_id srtcache-b:1)"

  # the tab lists what the cache holds, apart from the pushed images
  t_check "$mode: the cache lists both images" wait_until 30 bash -c \
    "curl -s --unix-socket '$API_SOCK' 'http://localhost/api/repositories?registry=cache' | jq -e '[.repositories[].name] | index(\"library/srtcache-a\") and index(\"library/srtcache-b\")' >/dev/null"
  body=$(capi GET "/api/repositories?registry=cache")
  t_check "$mode: with their tag and size" jq_ok '.repositories[] | select(.name == "library/srtcache-a") | .tags[0].tag == "1" and .size > 0' "$body"
  t_eq "$mode: the pushed images do not hold them" 0 "$(capi GET /api/repositories | jq '[.repositories[] | select(.name | startswith("library/srtcache"))] | length')"
  capi GET "/api/repositories?registry=hub" >/dev/null
  t_eq "$mode: ?registry=hub: 400" 400 "$(last_status)"
  if [ "$mode" = local ]; then
    local vol
    vol=$($DOCKER volume inspect -f '{{.Mountpoint}}' storj-registry-cache)
    t_check "$mode: the blobs are in the cache's volume" test -d "$vol/docker/registry/v2/repositories/library/srtcache-a"
    vol=$($DOCKER volume inspect -f '{{.Mountpoint}}' storj-registry-data)
    t_check "$mode: not in the registry's" test ! -e "$vol/docker/registry/v2/repositories/library/srtcache-a"
  else
    t_check "$mode: the blobs are under docker-hub-cache/ in the bucket" \
      bash -c '[ -n "$1" ]' _ "$(s3_keys docker-hub-cache/docker/registry/v2/repositories/library/srtcache-a/ | head -1)"
    t_check "$mode: none under the registry's docker/" \
      bash -c '[ -z "$1" ]' _ "$(s3_keys docker/registry/v2/repositories/library/srtcache)"
  fi

  # pushing to the cache is refused; the registry takes pushes as before
  $DOCKER tag "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" "127.0.0.1:$CACHE_PORT/mine/app:1"
  t_check "$mode: a push to the cache is refused" bash -c "! $DOCKER push 127.0.0.1:$CACHE_PORT/mine/app:1 >/dev/null 2>&1"
  $DOCKER rmi "127.0.0.1:$CACHE_PORT/mine/app:1" >/dev/null 2>&1
  t_check "$mode: a push and pull through the registry" push_pull_roundtrip "$PORT" "cache$mode"

  # Docker Hub away: the second pull is served from the cache
  $DOCKER stop "$HUB_NAME" >/dev/null
  $DOCKER rmi "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" srtcache-b:1 >/dev/null 2>&1
  t_check "$mode: upstream stopped: the pull by name is served by the cache" pull_logged "127.0.0.1:$CACHE_PORT/library/srtcache-a:1"
  t_eq "$mode: the same image" "${HUB_IDS[0]}" "$(pulled_id "127.0.0.1:$CACHE_PORT/library/srtcache-a:1")"
  t_check "$mode: upstream stopped: the mirror pull is served by the cache" pull_logged srtcache-b:1
  t_eq "$mode: the same image, by the mirror" "${HUB_IDS[1]}" "$(pulled_id srtcache-b:1)"
  $DOCKER start "$HUB_NAME" >/dev/null

  # logs carry the cache's lines
  body=$(capi GET "/api/registry/logs?tail=500")
  t_check "$mode: logs have the cache's lines" jq_ok '[.lines[] | select(.container == "cache")] | length > 0' "$body"

  # the cache stopped outside: said apart from the registry, Restart brings it back
  $DOCKER stop -t 1 storj-registry-cache >/dev/null
  t_check "$mode: cache stopped outside: status.cache says so, the registry runs" wait_until 30 status_has \
    '.state == "running" and .cache.state == "unhealthy" and .cache.error.code == "container_exited" and (.cache.error.hint | length > 0)'
  api POST /api/registry/restart >/dev/null
  t_check "$mode: Restart brings the cache back" wait_until 120 status_has '.state == "running" and .cache.state == "running"'

  # an upstream that does not answer as the cache starts (distribution then
  # exits; Docker starts it again): the registry starts all the same
  local dead=${HUB_URL%:5000}:5999
  body=$(capi PUT /api/config "{\"cache\":{\"upstream\":\"$dead\",\"token\":\"\"}}")
  t_eq "$mode: another upstream, the saved token not typed again: 400 naming cache.token" \
    "400 cache.token" "$(last_status) $(jq -r .error.field <<<"$body")"
  capi PUT /api/config "{\"cache\":{\"upstream\":\"$dead\",\"token\":\"$HUB_TOKEN\"}}" >/dev/null
  t_eq "$mode: with the token typed again: saved" 200 "$(last_status)"
  api POST /api/registry/restart >/dev/null
  t_check "$mode: upstream unreachable: the registry runs all the same" wait_until 120 status_has \
    '.state == "running" and .error == null and .job == null'
  t_check "$mode: the cache says it is not running, and why" wait_until 60 status_has \
    '.cache.state != "running" and .cache.error.code == "container_exited" and (.cache.error.message | test("exit code [1-9]")) and (.cache.error.hint | test("upstream"))'
  echo "# $mode: $(api GET /api/status | jq -c '.cache | {state, error}')"
  t_check "$mode: pushes and pulls work meanwhile" push_pull_roundtrip "$PORT" "cacheup$mode"
  capi PUT /api/config "{\"cache\":{\"upstream\":\"$HUB_URL\",\"token\":\"$HUB_TOKEN\"}}" >/dev/null
  api POST /api/registry/restart >/dev/null
  t_check "$mode: the upstream back: Restart brings the cache up" wait_until 120 status_has \
    '.state == "running" and .cache.state == "running"'

  # stopped and started with the registry
  api POST /api/registry/stop >/dev/null
  t_check "$mode: Stop stops the cache too" wait_until 60 status_has '.state == "stopped" and .cache.state == "stopped"'
  t_eq "$mode: its container is stopped" false "$($DOCKER inspect -f '{{.State.Running}}' storj-registry-cache)"
  api POST /api/registry/start >/dev/null
  t_check "$mode: Start starts it again" wait_until 120 status_has '.state == "running" and .cache.state == "running"'
  $DOCKER rmi srtcache-b:1 >/dev/null 2>&1
  t_check "$mode: after the restart it still serves what it holds" pull_logged srtcache-b:1

  # turned off: the next restart runs the registry alone
  body=$(capi PUT /api/config '{"cache":{"enabled":false}}')
  t_eq "$mode: cache off saved" 200 "$(last_status)"
  t_check "$mode: the change waits for a restart, named cache" status_has '.pendingRestart and (.pendingChange.fields | index("cache"))'
  api POST /api/registry/restart >/dev/null
  t_check "$mode: restarted without the cache" wait_until 120 status_has '.state == "running" and .cache == null and ([.containers[] | select(.role == "cache")] | length) == 0'
  capi GET "/api/repositories?registry=cache" >/dev/null
  t_eq "$mode: the cache's images: 409 when it does not run" 409 "$(last_status)"

  # no Docker Hub token anywhere but the cache's config file
  local facts="" id
  for id in $($DOCKER ps -aq --filter label=io.storj.registry.managed=true); do facts+=$(container_facts "$id"); done
  t_check "$mode: the token is in no API answer" no_secret_in "$(cat "$CACHE_ANSWERS")" "$HUB_TOKEN"
  t_check "$mode: nor in docker inspect (env, labels, command)" no_secret_in "$facts" "$HUB_TOKEN"
  t_check "$mode: nor in the backend's log" no_secret_in "$(cat "$BLOG")" "$HUB_TOKEN"

  api DELETE "/api/registry?purge=true" >/dev/null
  t_check "$mode: removed" wait_until 60 status_has '.state == "not-configured" or .state == "stopped"'
  if [ "$mode" = local ]; then
    t_check "$mode: purge removes the cache's volume too" bash -c "! $DOCKER volume inspect storj-registry-cache >/dev/null 2>&1"
  fi
  stop_backend || t_fail "$mode: backend exits cleanly"
  $DOCKER rmi "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" srtcache-b:1 >/dev/null 2>&1
  [ "$mode" = local ] || s3_rmbucket "$BUCKET"
}

# cache_local_more: local mode, after cache_mode local. Docker's restart
# policy brings the cache back by itself once its upstream answers (the
# hint status gives promises that); then the cache over TLS off loopback:
# HTTPS with the registry's certificate, the registry's logins, docker login
# and pull through it with the certificate in certs.d.
cache_local_more() {
  local body st
  # the stand-in at an address that outlives its stop (Docker gives a
  # container an address at each start; the cache's restarts may take it)
  local HUB_URL=$HUB_FIXED_URL
  echo "# ---- local: the cache recovers by itself; the cache over TLS"
  remove_managed
  $DOCKER volume rm -f storj-registry-cache >/dev/null 2>&1
  PORT=$(free_port)
  rm -rf "$WORK/cache-more.state"
  start_backend cache-more || { t_fail "more: backend starts"; return; }
  capi PUT /api/config "$(cache_settings local)" >/dev/null
  t_eq "recovery: settings saved" 200 "$(last_status)"
  api POST /api/registry/start >/dev/null
  t_check "recovery: registry and cache running" wait_until 120 status_has '.state == "running" and .cache.state == "running"'
  # Docker Hub away as the cache starts (an offline laptop): it exits, and
  # Docker keeps starting it (a restart outside the tab, so that no
  # container is created meanwhile)
  $DOCKER stop "$HUB_NAME" >/dev/null
  $DOCKER restart -t 1 storj-registry-cache >/dev/null
  t_check "recovery: upstream away: the cache is not running, and says why" wait_until 60 status_has \
    '.state == "running" and .cache.state == "unhealthy" and .cache.error.code == "container_exited"'
  t_eq "recovery: its restart policy" on-failure "$($DOCKER inspect -f '{{.HostConfig.RestartPolicy.Name}}' storj-registry-cache)"
  t_check "recovery: Docker starts it again and again meanwhile" wait_until 60 bash -c \
    "[ \"\$($DOCKER inspect -f '{{.RestartCount}}' storj-registry-cache)\" -ge 2 ]"
  t_check "recovery: the registry takes pushes meanwhile" push_pull_roundtrip "$PORT" cacherecover
  $DOCKER start "$HUB_NAME" >/dev/null
  local t0
  t0=$(date +%s%N)
  t_check "recovery: the upstream back: the cache runs again by itself, no Restart pressed" \
    wait_until 120 status_has '.cache.state == "running" and .cache.healthy and .cache.error == null'
  echo "# recovery took $((($(date +%s%N) - t0) / 1000000)) ms after the upstream came back (restarts: $($DOCKER inspect -f '{{.RestartCount}}' storj-registry-cache))"
  $DOCKER rmi "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" >/dev/null 2>&1
  t_check "recovery: and serves pulls" pull_logged "127.0.0.1:$CACHE_PORT/library/srtcache-a:1"

  # TLS off loopback: a user (required there), the certificate, bind HOST_IP
  local tls=$WORK/cache-tls pw="cache-tls-password-$RANDOM$RANDOM" certs=/etc/docker/certs.d/$HOST_IP:$CACHE_PORT
  rm -rf "$tls" "$certs"; mkdir -p "$tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$HOST_IP" -addext "subjectAltName=IP:$HOST_IP,DNS:localhost" \
    -keyout "$tls/key.pem" -out "$tls/cert.pem" >/dev/null 2>&1 || t_fail "tls: openssl made a test certificate"
  capi POST /api/users "{\"name\":\"cache-user\",\"password\":\"$pw\"}" >/dev/null
  t_eq "tls: a user" 201 "$(last_status)"
  capi PUT /api/config "$(jq -nc --rawfile c "$tls/cert.pem" --rawfile k "$tls/key.pem" --arg b "$HOST_IP" '{bind:$b,tls:{certificate:$c,key:$k}}')" >/dev/null
  t_eq "tls: certificate, key and bind $HOST_IP saved" 200 "$(last_status)"
  api POST /api/registry/restart >/dev/null
  t_check "tls: registry and cache running (the backend probes both over HTTPS)" wait_until 120 status_has \
    '.state == "running" and .cache.state == "running" and .cache.healthy'
  st=$(capi GET /api/status)
  t_eq "tls: the cache's endpoint, mirror and address" "$HOST_IP:$CACHE_PORT https://$HOST_IP:$CACHE_PORT $HOST_IP" \
    "$(jq -r '.cache | "\(.endpoint) \(.mirror) \(.bind)"' <<<"$st")"
  local r=https://$HOST_IP:$CACHE_PORT/v2/
  t_eq "tls: curl --cacert: off loopback the cache asks for a login" 401 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/cert.pem" "$r")"
  t_eq "tls: curl --cacert: 200 with the registry's login" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/cert.pem" -u "cache-user:$pw" "$r")"
  t_check "tls: without the certificate, curl refuses the cache" bash -c "! curl -s -o /dev/null -u 'cache-user:$pw' '$r'"
  t_check "tls: no plain HTTP on the cache's port" bash -c \
    "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://$HOST_IP:$CACHE_PORT/v2/')\" != 401 ]"
  mkdir -p "$certs" && cp "$tls/cert.pem" "$certs/ca.crt"
  $DOCKER login -u cache-user --password-stdin "$HOST_IP:$CACHE_PORT" <<<"$pw" >"$WORK/cache-tls.log" 2>&1
  local rc=$?
  t_check "tls: docker login to the cache with its CA in certs.d ($(tail -1 "$WORK/cache-tls.log" | cut -c1-60))" test "$rc" = 0
  $DOCKER rmi "$HOST_IP:$CACHE_PORT/library/srtcache-a:1" >/dev/null 2>&1
  t_check "tls: docker pull through the cache over HTTPS" pull_logged "$HOST_IP:$CACHE_PORT/library/srtcache-a:1"
  t_eq "tls: the same image as upstream" "${HUB_IDS[0]}" "$(pulled_id "$HOST_IP:$CACHE_PORT/library/srtcache-a:1")"
  body=$(capi GET "/api/repositories?registry=cache")
  t_check "tls: the tab lists what the cache holds over HTTPS" jq_ok '[.repositories[].name] | index("library/srtcache-a") != null' "$body"
  t_check "tls: the password is in no answer, inspect or log" no_secret_in \
    "$(cat "$CACHE_ANSWERS" "$BLOG"; $DOCKER inspect storj-registry-cache)" "$pw" "$HUB_TOKEN"
  $DOCKER logout "$HOST_IP:$CACHE_PORT" >/dev/null 2>&1
  $DOCKER rmi "$HOST_IP:$CACHE_PORT/library/srtcache-a:1" "127.0.0.1:$CACHE_PORT/library/srtcache-a:1" >/dev/null 2>&1
  rm -rf "$certs" "$tls"
  api DELETE "/api/registry?purge=true" >/dev/null
  t_check "tls: removed" wait_until 60 status_has '.state == "not-configured" or .state == "stopped"'
  stop_backend || t_fail "tls: backend exits cleanly"
}

cache_suite() {
  : >"$CACHE_ANSWERS"
  DCFG=$(mktemp -d)
  export DOCKER_CONFIG=$DCFG
  if (exec 3<>"/dev/tcp/127.0.0.1/$CACHE_PORT") 2>/dev/null; then
    t_fail "port $CACHE_PORT is free for the cache"; return
  fi
  t_eq "the test engine uses 127.0.0.1:$CACHE_PORT as its Docker Hub mirror (tests/env/docker-engine.sh; restart an older engine)" \
    "[\"http://127.0.0.1:$CACHE_PORT/\"]" "$($DOCKER info --format '{{json .RegistryConfig.Mirrors}}')"
  hub_start || { t_fail "the Docker Hub stand-in starts with two images"; return; }
  t_ok "the Docker Hub stand-in runs at $HUB_URL and asks for a login"
  local m
  for m in "$@"; do
    if [ "$m" = local-more ]; then cache_local_more; else cache_mode "$m"; fi
  done
  $DOCKER rm -f "$HUB_NAME" >/dev/null 2>&1
  rm -rf "$DCFG"
}
