#!/bin/bash
# Registry users on the real engine, local mode: users added, reset and
# removed over the API; with a user the registry asks every client to log in
# (docker login, then push and pull; without it 401 on /v2/ and a refused
# push and pull), changes reach the running registry at once (distribution 3
# re-reads its htpasswd), the tab's browsing keeps working with the backend's
# internal credential, and no password shows in any answer, in docker
# inspect, in the backend's log or in the registry's logs. A listen address
# other than loopback needs a user (400 naming bind).
set -uo pipefail
T_NAME=users
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/lib.sh"
t_begin
remove_managed
rm -rf "$WORK/users.state"
PORT=$(free_port)
# the docker CLI's config (its credentials) for this suite only
DCFG=$(mktemp -d)
export DOCKER_CONFIG=$DCFG
ANSWERS=$WORK/users-answers.txt
: >"$ANSWERS"
# every API answer is kept, to look for passwords in them at the end
capi() { local out; out=$(api "$@"); printf '%s\n' "$out" >>"$ANSWERS"; printf '%s' "$out"; }
v2() { # v2 USER:PASSWORD|- PATH: the HTTP status of GET /v2/PATH
  if [ "$1" = - ]; then curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/$2"
  else curl -s -o /dev/null -w '%{http_code}' -u "$1" "http://127.0.0.1:$PORT/v2/$2"; fi
}
dk() { $DOCKER "$@"; }
refused() { # refused FILE: the docker command whose output is in FILE was denied for want of a login
  grep -qiE 'no basic auth credentials|unauthorized|authentication required' "$1"
}
start_backend users || { t_fail "backend starts"; t_end; exit 1; }

capi PUT /api/config "{\"mode\":\"local\",\"port\":$PORT}" >/dev/null
t_eq "local settings saved" 200 "$(last_status)"
body=$(capi GET /api/users)
t_eq "no users at first" '0 false' "$(jq -r '"\(.count) \(.authEnabled)"' <<<"$body")"
t_check "the state folder holds the htpasswd, 0600" test "$(stat -c %a "$STATE/htpasswd")" = 600
t_check "and the internal credential, 0600" test "$(stat -c %a "$STATE/registry-credential")" = 600
INTERNAL=$(cat "$STATE/registry-credential")
t_check "the internal user is in the htpasswd (bcrypt)" grep -qE '^_storj-registryd:\$2b\$10\$' "$STATE/htpasswd"

# a listen address other machines reach needs a user
body=$(capi PUT /api/config "{\"bind\":\"$HOST_IP\"}")
t_eq "bind $HOST_IP without users: 400" 400 "$(last_status)"
t_eq "naming bind" "bind users_required" "$(jq -r '"\(.error.field) \(.error.code)"' <<<"$body")"
t_eq "the saved bind is unchanged" 127.0.0.1 "$(capi GET /api/config | jq -r .bind)"

# bad input: 400 naming the field, nothing changed
before=$(sha256sum <"$STATE/htpasswd")
for c in '{"name":"bad name","password":"long enough pw 1"}|name' '{"name":"-x"}|name' \
  '{"name":"carol","password":"short"}|password' '{"name":"carol","password":"tab\there 12345"}|password' \
  '{"password":"long enough pw 1"}|name' '{"name":"carol","role":"admin"}|role'; do
  body=$(capi POST /api/users "${c%|*}")
  t_eq "POST /api/users ${c%|*}: 400 naming ${c#*|}" "400 ${c#*|}" "$(last_status) $(jq -r .error.field <<<"$body")"
done
t_eq "nothing was added" 0 "$(capi GET /api/users | jq .count)"
t_eq "the htpasswd file is unchanged" "$before" "$(sha256sum <"$STATE/htpasswd")"

api POST /api/registry/start >/dev/null
t_check "registry running (no users: no login)" wait_state running 90
t_eq "no login asked yet" 200 "$(v2 - '')"

PW_A="alice-typed-password-$RANDOM"
body=$(capi POST /api/users "{\"name\":\"alice\",\"password\":\"$PW_A\"}")
t_eq "alice added: 201" 201 "$(last_status)"
t_eq "the answer holds no password" null "$(jq -r .password <<<"$body")"
t_eq "the first user turns logins on at the next restart" restart "$(jq -r .applied <<<"$body")"
st=$(capi GET /api/status)
t_eq "status: pendingRestart, field users" 'true users' "$(jq -r '"\(.pendingRestart) \(.pendingChange.fields | join(","))"' <<<"$st")"
body=$(capi POST /api/users '{"name":"bob"}')
t_eq "bob added with a generated password" 201 "$(last_status)"
PW_B=$(jq -r .password <<<"$body")
t_check "the generated password is 24 characters, shown once" test "${#PW_B}" = 24
t_eq "a second alice: 409" 409 "$(capi POST /api/users "{\"name\":\"alice\",\"password\":\"$PW_A\"}" >/dev/null; last_status)"
t_eq "the list: names only" '["alice","bob"]' "$(capi GET /api/users | jq -c '[.users[].name]')"
case $(api GET /api/users) in *'$2b$'*) t_fail "no hash in the list" ;; *) t_ok "no hash in the list" ;; esac

api POST /api/registry/restart >/dev/null
t_check "restarted with logins on" wait_state running 90
t_eq "status: nothing pending" false "$(api GET /api/status | jq .pendingRestart)"
t_check "the container has the same htpasswd as the state folder" \
  bash -c "cmp <($(declare -f container_file); DOCKER=$DOCKER container_file storj-registry /etc/storj-registry/htpasswd) '$STATE/htpasswd'"
t_check "its config asks for htpasswd logins" bash -c "$(declare -f container_file); DOCKER=$DOCKER container_file storj-registry /etc/storj-registry/config.yml | jq -e '.auth.htpasswd.path == \"/etc/storj-registry/htpasswd\"' >/dev/null"
t_eq "GET /v2/ without a login: 401" 401 "$(v2 - '')"
t_eq "GET /v2/_catalog without a login: 401" 401 "$(v2 - _catalog)"
t_eq "with alice's password: 200" 200 "$(v2 "alice:$PW_A" '')"
t_eq "with a wrong password: 401" 401 "$(v2 "alice:$PW_A-x" '')"
t_eq "bob's generated password works" 200 "$(v2 "bob:$PW_B" '')"
t_eq "the health probe still sees it healthy" healthy "$(api GET /api/status | jq -r '.containers[] | select(.role=="registry") | .health')"

# docker, without and with a login
"$ROOT/tests/env/random-image.sh" srt-src/users-img:1 2 256 >/dev/null
dk tag srt-src/users-img:1 "localhost:$PORT/team/users-img:1"
dk push "localhost:$PORT/team/users-img:1" >"$WORK/users-push.log" 2>&1
rc=$?
t_check "docker push without a login is refused ($(tail -1 "$WORK/users-push.log"))" test "$rc" != 0
t_check "for want of a login" refused "$WORK/users-push.log"
dk login -u alice --password-stdin "localhost:$PORT" <<<"$PW_A" >"$WORK/users-login.log" 2>&1
rc=$?
t_check "docker login localhost:$PORT as alice ($(tail -1 "$WORK/users-login.log"))" test "$rc" = 0
t_check "then push and pull work" push_pull_roundtrip "$PORT" users-rt
dk push "localhost:$PORT/team/users-img:1" >/dev/null 2>&1 || t_fail "push team/users-img:1 logged in"
dk logout "localhost:$PORT" >/dev/null 2>&1
dk rmi "localhost:$PORT/team/users-img:1" >/dev/null 2>&1
dk pull "localhost:$PORT/team/users-img:1" >"$WORK/users-pull.log" 2>&1
rc=$?
t_check "docker pull without a login is refused ($(tail -1 "$WORK/users-pull.log"))" test "$rc" != 0
t_check "for want of a login" refused "$WORK/users-pull.log"

# the tab's browsing and deleting log in with the internal credential
repos=$(capi GET /api/repositories)
t_eq "browsing answers 200" 200 "$(last_status)"
t_eq "and lists what alice pushed" "team/users-img users-rt" "$(jq -r '[.repositories[].name] | sort | join(" ")' <<<"$repos")"
t_eq "the internal user is no user in the list" '["alice","bob"]' "$(capi GET /api/users | jq -c '[.users[].name]')"
t_eq "nor can it be removed" 404 "$(capi DELETE /api/users/_storj-registryd >/dev/null; last_status)"

# changes reach the running registry at once
body=$(capi PUT /api/users/alice/password '{}')
t_eq "alice's password reset (generated): 200" 200 "$(last_status)"
t_eq "applied to the running registry" live "$(jq -r .applied <<<"$body")"
PW_A2=$(jq -r .password <<<"$body")
t_eq "the old password is refused at once" 401 "$(v2 "alice:$PW_A" '')"
t_eq "the new one works" 200 "$(v2 "alice:$PW_A2" '')"
PW_A3="alice-typed-again-$RANDOM$RANDOM"
body=$(capi PUT /api/users/alice/password "{\"password\":\"$PW_A3\"}")
t_eq "reset to a typed password: no password in the answer" '200 null' "$(last_status) $(jq -r .password <<<"$body")"
t_eq "the typed one works" 200 "$(v2 "alice:$PW_A3" '')"
body=$(capi PUT /api/users/alice/password '{"password":"short"}')
t_eq "a short one: 400 naming password" '400 password' "$(last_status) $(jq -r .error.field <<<"$body")"
t_eq "and changes nothing" 200 "$(v2 "alice:$PW_A3" '')"
t_eq "an unknown user: 404" 404 "$(capi PUT /api/users/nobody/password '{}' >/dev/null; last_status)"
body=$(capi DELETE /api/users/bob)
t_eq "bob removed" '200 live' "$(last_status) $(jq -r .applied <<<"$body")"
t_eq "bob is refused at once" 401 "$(v2 "bob:$PW_B" '')"
t_eq "browsing still works" 200 "$(capi GET /api/repositories >/dev/null; last_status)"
# the registry logged the logins that failed and the probes: no password in it
logs=$(api GET /api/registry/logs?tail=2000)
t_check "the registry logged refused logins" grep -q 'error authenticating user' <<<"$logs"
t_check "no password in those logs" no_secret_in "$logs" "$PW_A" "$PW_B" "$PW_A2" "$PW_A3" "$(cat "$STATE/registry-credential")"

# a backend restart keeps users and credential; the registry is still reached
stop_backend || t_fail "backend exits cleanly"
start_backend users || t_fail "backend restarts"
t_check "after a backend restart the registry is running (probe logs in)" wait_state running 20
t_eq "the users are kept" '["alice"]' "$(capi GET /api/users | jq -c '[.users[].name]')"
t_eq "browsing works after the restart" 200 "$(capi GET /api/repositories >/dev/null; last_status)"
t_eq "the internal credential is kept" "$INTERNAL" "$(cat "$STATE/registry-credential")"

# off loopback with a user: accepted; the last user then stays
capi PUT /api/config "{\"bind\":\"$HOST_IP\"}" >/dev/null
t_eq "bind $HOST_IP with a user: 200" 200 "$(last_status)"
body=$(capi DELETE /api/users/alice)
t_eq "removing the last user off loopback: 409 users_required" '409 users_required' "$(last_status) $(jq -r .error.code <<<"$body")"
api POST /api/registry/restart >/dev/null
t_check "restarted on $HOST_IP:$PORT (the test bridge)" wait_state running 90
t_eq "other machines get 401 on $HOST_IP:$PORT" 401 "$(curl -s -o /dev/null -w '%{http_code}' "http://$HOST_IP:$PORT/v2/")"
t_eq "and 200 with a login" 200 "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PW_A3" "http://$HOST_IP:$PORT/v2/")"
t_eq "the tab still browses" 200 "$(capi GET /api/repositories >/dev/null; last_status)"
capi PUT /api/config '{"bind":"127.0.0.1"}' >/dev/null
t_eq "back to loopback" 200 "$(last_status)"
body=$(capi DELETE /api/users/alice)
t_eq "then the last user may go (logins off at the next restart)" '200 restart' "$(last_status) $(jq -r .applied <<<"$body")"
t_eq "alice is refused at once" 401 "$(curl -s -o /dev/null -w '%{http_code}' -u "alice:$PW_A3" "http://$HOST_IP:$PORT/v2/")"
api POST /api/registry/restart >/dev/null
t_check "restarted without users" wait_state running 90
t_eq "no login asked again" 200 "$(v2 - '')"

# no password anywhere
SECRETS=("$PW_A" "$PW_B" "$PW_A2" "$PW_A3" "$INTERNAL")
logs=$(api GET /api/registry/logs?tail=2000)
t_check "the registry's logs hold log lines" test "$(jq '.lines | length' <<<"$logs")" -gt 5
t_check "no password in the registry's logs" no_secret_in "$logs" "${SECRETS[@]}"
# the one answer that carried each generated password is the only one
t_eq "a generated password is in exactly one answer" "1 1" "$(grep -c "$PW_B" "$ANSWERS") $(grep -c "$PW_A2" "$ANSWERS")"
t_check "no typed password, no internal one in any answer" no_secret_in "$(cat "$ANSWERS")" "$PW_A" "$PW_A3" "$INTERNAL"
t_check "none in docker inspect (env, labels, command)" no_secret_in "$($DOCKER inspect storj-registry)" "${SECRETS[@]}"
t_check "none in the backend's log" no_secret_in "$(cat "$BLOG")" "${SECRETS[@]}"
t_check "none in the settings files" no_secret_in "$(cat "$STATE"/settings.json "$STATE"/running.json 2>/dev/null)" "${SECRETS[@]}"


# ---- TLS with a certificate the user provides (self-signed here, for the
# test bridge's address): curl with --cacert, docker through certs.d ----
TLS=$WORK/users-tls
rm -rf "$TLS"; mkdir -p "$TLS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj "/CN=$HOST_IP" -addext "subjectAltName=IP:$HOST_IP,DNS:localhost" \
  -keyout "$TLS/key.pem" -out "$TLS/cert.pem" >/dev/null 2>&1 || t_fail "openssl made a test certificate"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$TLS/other.pem" >/dev/null 2>&1
PW_T="tls-user-password-$RANDOM$RANDOM"
capi POST /api/users "{\"name\":\"tls-user\",\"password\":\"$PW_T\"}" >/dev/null
t_eq "a user for the TLS registry" 201 "$(last_status)"
body=$(capi PUT /api/config "$(jq -nc --rawfile c "$TLS/cert.pem" --rawfile k "$TLS/other.pem" '{tls:{certificate:$c,key:$k}}')")
t_eq "a key that is not the certificate's: 400 naming tls.key" '400 tls.key' "$(last_status) $(jq -r .error.field <<<"$body")"
body=$(capi PUT /api/config "$(jq -nc --rawfile c "$TLS/cert.pem" '{tls:{certificate:$c}}')")
t_eq "a certificate without its key: 400 naming tls.key" '400 tls.key' "$(last_status) $(jq -r .error.field <<<"$body")"
body=$(capi PUT /api/config "$(jq -nc --rawfile c "$TLS/cert.pem" --rawfile k "$TLS/key.pem" --arg b "$HOST_IP" '{bind:$b,tls:{certificate:$c,key:$k}}')")
t_eq "certificate and key saved with bind $HOST_IP" 200 "$(last_status)"
t_eq "the answer describes the certificate, never the key" "true true $HOST_IP" \
  "$(jq -r '"\(.tls.enabled) \(.tls.key.set) \(.tls.certificate.names | index("'"$HOST_IP"'") != null | if . then "'"$HOST_IP"'" else "?" end)"' <<<"$body")"
t_check "no PEM in the answer" bash -c "! grep -q 'BEGIN' <<<'$(jq -c . <<<"$body")'"
t_eq "status names tls (and bind) as pending" 'tls' "$(api GET /api/status | jq -r '.pendingChange.fields | map(select(. == "tls")) | join(",")')"
api POST /api/registry/restart >/dev/null
t_check "restarted with TLS (the backend's probe speaks HTTPS, its key pinned)" wait_state running 90
t_eq "and sees it healthy" healthy "$(api GET /api/status | jq -r '.containers[] | select(.role=="registry") | .health')"
R=https://$HOST_IP:$PORT/v2/
t_eq "curl --cacert: 401 without a login" 401 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/cert.pem" "$R")"
t_eq "curl --cacert: 200 with one" 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TLS/cert.pem" -u "tls-user:$PW_T" "$R")"
t_check "without the certificate, curl refuses the registry" bash -c "! curl -s -o /dev/null -u 'tls-user:$PW_T' '$R'"
t_check "plain HTTP is no longer served" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' 'http://$HOST_IP:$PORT/v2/')\" != 200 ]"
CERTS_D=/etc/docker/certs.d/$HOST_IP:$PORT
rm -rf "$CERTS_D"
"$ROOT/tests/env/random-image.sh" srt-src/users-tls:1 2 128 >/dev/null
dk tag srt-src/users-tls:1 "$HOST_IP:$PORT/team/users-tls:1"
dk login -u tls-user --password-stdin "$HOST_IP:$PORT" <<<"$PW_T" >"$WORK/users-tls-login.log" 2>&1
rc=$?
t_check "docker login without the CA in certs.d fails ($(tail -1 "$WORK/users-tls-login.log" | cut -c1-90))" test "$rc" != 0
t_check "for want of a trusted certificate" grep -q 'x509' "$WORK/users-tls-login.log"
mkdir -p "$CERTS_D" && cp "$TLS/cert.pem" "$CERTS_D/ca.crt"
dk login -u tls-user --password-stdin "$HOST_IP:$PORT" <<<"$PW_T" >"$WORK/users-tls-login.log" 2>&1
rc=$?
t_check "with $CERTS_D/ca.crt docker login works ($(tail -1 "$WORK/users-tls-login.log"))" test "$rc" = 0
dk push "$HOST_IP:$PORT/team/users-tls:1" >"$WORK/users-tls-push.log" 2>&1
rc=$?
t_check "docker push over TLS ($(tail -1 "$WORK/users-tls-push.log" | cut -c1-60))" test "$rc" = 0
dk rmi "$HOST_IP:$PORT/team/users-tls:1" >/dev/null 2>&1
dk pull "$HOST_IP:$PORT/team/users-tls:1" >"$WORK/users-tls-pull.log" 2>&1
t_check "docker pull over TLS" test $? = 0
dk rmi "$HOST_IP:$PORT/team/users-tls:1" srt-src/users-tls:1 >/dev/null 2>&1
t_check "the tab browses the TLS registry" bash -c "[ \"\$(curl -s --unix-socket '$API_SOCK' http://localhost/api/repositories | jq -r '[.repositories[].name] | index(\"team/users-tls\") != null')\" = true ]"
KEYBODY=$(sed -n '2p' "$TLS/key.pem") # a line of the key's base64
logs=$(api GET /api/registry/logs?tail=2000)
t_check "no key, no password in the registry's logs" no_secret_in "$logs" "$KEYBODY" "$PW_T"
t_check "no key in any answer" no_secret_in "$(cat "$ANSWERS")" "$KEYBODY"
t_check "none in docker inspect" no_secret_in "$($DOCKER inspect storj-registry)" "$KEYBODY" "$PW_T"
t_check "none in the backend's log" no_secret_in "$(cat "$BLOG")" "$KEYBODY" "$PW_T"
t_check "the key file in the container is 0600" bash -c "$DOCKER cp storj-registry:/etc/storj-registry/tls.key - | tar -tv | grep -q '^-rw-------'"
rm -rf "$CERTS_D"
dk logout "$HOST_IP:$PORT" >/dev/null 2>&1
capi PUT /api/config '{"tls":null,"bind":"127.0.0.1"}' >/dev/null
t_eq "TLS off and back to loopback" 200 "$(last_status)"
api POST /api/registry/restart >/dev/null
t_check "restarted on plain HTTP" wait_state running 90
t_eq "plain HTTP again (logins on)" 401 "$(v2 - '')"

stop_backend || t_fail "backend exits cleanly"
remove_managed
rm -rf "$DCFG"
t_end
