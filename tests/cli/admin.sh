#!/bin/sh
# admin.sh: integration tests of hot deploys (issue 5) against the real
# server on free loopback ports (--listen/--admin 127.0.0.1:0, the ports
# read from the log): the admin API and its token, atomic swaps under
# continuous load, bad deploys that change nothing, the state directory
# across restarts and a crash in the middle of a write, /metrics, the
# access log's request ids, SIGTERM with requests in flight, SIGHUP, and
# the CLI client (wharf deploy / services / rollback / undeploy). Under
# the ASan build a server that leaked a version fails its clean stop.
. tests/cli/harness.inc
HT=$BUILD/admin-tests/run.$$
SERVE_ARGS="--admin 127.0.0.1:0 --workers 2"
. tests/cli/server.inc

# ---- Guests ----------------------------------------------------------------
wat2wasm tests/http/version.wat -o "$HT/a.wasm" &&
sed 's/version A/version B/' tests/http/version.wat >"$HT/b.wat" &&
wat2wasm "$HT/b.wat" -o "$HT/b.wasm" || fail "build version modules"
clang --target=wasm32-wasi -O1 -o "$HT/versioned.wasm" tests/http/versioned.c ||
    fail "build versioned.wasm"
clang --target=wasm32-wasi -O1 -o "$HT/guest.wasm" tests/http/guest.c || fail "build guest.wasm"
clang --target=wasm32-wasi -mexec-model=reactor -Isdk/c -O1 \
    -o "$HT/plugin.wasm" tests/http/plugin.c || fail "build plugin.wasm"

# ---- Helpers ---------------------------------------------------------------

# stop_freed: stop, and the server freed every version before it exited.
stop_freed() {
    stop
    grep -q 'versions still in use at exit' "$log" && fail "versions leaked: $log" || pass
}

ADMIN() { echo "http://127.0.0.1:$aport$1"; }

# body MODULE CONFIG_JSON: a deploy's JSON body in $HT/put.json.
body() {
    printf '{"module":"%s","module_name":"%s","config":%s}' \
        "$(base64 -w0 "$1")" "$(basename "$1")" "$2" >"$HT/put.json"
}

# deploy NAME STATUS BODY_ERE MODULE CONFIG_JSON: PUT /v1/services/NAME.
deploy() {
    body "$4" "$5"
    req "deploy $1" "$2" "$3" -X PUT --data-binary "@$HT/put.json" "$(ADMIN "/v1/services/$1")"
}

# logged NAME ERE: the server's log has a line matching ERE.
logged() {
    sleep 0.2
    grep -Eq -- "$2" "$log" && pass || fail "$1: no log line /$2/"
}

# metric NAME ERE: GET /metrics has a line matching ERE.
metric() {
    curl -s "$(ADMIN /metrics)" >"$HT/metrics"
    grep -Eq -- "$2" "$HT/metrics" && pass || fail "$1: /metrics has no line /$2/"
}

sha_a=$(sha256sum "$HT/a.wasm" | cut -d' ' -f1)
sha_b=$(sha256sum "$HT/b.wasm" | cut -d' ' -f1)
V='{"routes":["/v/..."]}'

# ---- The admin API -----------------------------------------------------------
start api --state-dir "$HT/state" || finish
req "healthz" 200 '^ok$' "$(ADMIN /healthz)"
req "readyz" 200 '^ready$' "$(ADMIN /readyz)"
req "no services yet" 200 '^\{"services":\[\]\}$' "$(ADMIN /v1/services)"
deploy ver 201 "\"version\":1,.*\"sha256\":\"$sha_a\"" "$HT/a.wasm" "$V"
grep -q '"origin":"api"' "$HT/body" && grep -q '"routes":\["/v/..."\]' "$HT/body" &&
    grep -q '"limits":{"max_memory":134217728' "$HT/body" && pass ||
    fail "deploy answer: $(cat "$HT/body")"
req "serves A" 200 '^version A$' "$(URL /v/x)"
req "request id header" 200 '' "$(URL /v/x)"
id=$(sed -n 's/^x-request-id: *\([0-9a-f]\{8\}\).*/\1/ip' "$HT/head" | tr -d '\r')
logged "access log" "msg=request id=$id method=GET path=\"/v/x\" status=200 service=ver version=1 "
deploy ver 200 "\"version\":2,.*\"sha256\":\"$sha_b\"" "$HT/b.wasm" "$V"
req "serves B" 200 '^version B$' "$(URL /v/x)"
req "rollback" 200 "\"version\":3,.*\"sha256\":\"$sha_a\"" -X POST "$(ADMIN /v1/services/ver/rollback)"
req "rolled back to A" 200 '^version A$' "$(URL /v/x)"
req "rollback twice" 200 "\"version\":4,.*\"sha256\":\"$sha_b\"" -X POST \
    "$(ADMIN /v1/services/ver/rollback)"
req "back to B" 200 '^version B$' "$(URL /v/x)"
req "one service" 200 '"history":\[\{"version":4,.*\{"version":3,' "$(ADMIN /v1/services/ver)"
req "list" 200 '^\{"services":\[\{"version":4,.*"name":"ver"' "$(ADMIN /v1/services)"
req "counters" 200 '"counters":\{"requests":\{"other":0,"1xx":0,"2xx":[1-9]' "$(ADMIN /v1/services/ver)"
req "unknown service" 404 '"error":"no such service"' "$(ADMIN /v1/services/nope)"
req "rollback unknown" 404 "no service 'nope'" -X POST "$(ADMIN /v1/services/nope/rollback)"
req "wrong method" 405 '' -X PATCH "$(ADMIN /v1/services/ver)"
req "no such endpoint" 404 '' "$(ADMIN /v2/things)"
deploy solo 201 '"version":1' "$HT/a.wasm" '{"routes":["/solo"]}'
req "nothing to roll back to" 409 "service 'solo' has no earlier version" -X POST \
    "$(ADMIN /v1/services/solo/rollback)"
req "undeploy" 200 '"deleted":"solo"' -X DELETE "$(ADMIN /v1/services/solo)"
req "undeployed route" 404 '' "$(URL /solo)"
req "undeploy again" 404 "no service 'solo'" -X DELETE "$(ADMIN /v1/services/solo)"

# A request in flight finishes on the version it started on; that version
# is freed when it ends, not before.
deploy slow 201 '' "$HT/versioned.wasm" '{"routes":["/slow"],"environment":{"VERSION":"one"}}'
curl -s --max-time 30 "$(URL '/slow?ms=1500')" >"$HT/inflight" &
c1=$!
sleep 0.5
deploy slow 200 '"version":2' "$HT/versioned.wasm" '{"routes":["/slow"],"environment":{"VERSION":"two"}}'
req "new requests on the new version" 200 '^version two$' "$(URL /slow)"
grep -q 'msg="version freed" service=slow version=1' "$log" &&
    fail "version 1 freed while its request was in flight" || pass
wait "$c1"
[ "$(cat "$HT/inflight")" = "version one" ] && pass ||
    fail "in-flight request: '$(cat "$HT/inflight")', want 'version one'"
logged "old version freed after its request" 'msg="version freed" service=slow version=1'
# Same module bytes: the second version's compile came from the cache.
metric "compile cache hit" '^wharf_compile_cache_hits_total [1-9]'

# ---- Bad deploys change nothing ------------------------------------------------
head -c 30 "$HT/a.wasm" >"$HT/short.wasm"
deploy ver 400 'a.wasm|short.wasm: malformed module: .* \(at offset 0x[0-9a-f]+\)' \
    "$HT/short.wasm" "$V"
grep -q '"id":"[0-9a-f]\{8\}"' "$HT/body" && pass || fail "error body has an id"
id=$(sed -n 's/.*"id":"\([0-9a-f]\{8\}\)".*/\1/p' "$HT/body")
logged "refusal logged with its id" "id=$id status=400 error=\".*malformed module"
deploy ver 400 'plugin.wasm: a WAGI guest must export `_start' "$HT/plugin.wasm" "$V"
deploy ver 400 "plugin.wasm: no exported function 'nope'" "$HT/plugin.wasm" \
    '{"routes":["/v/..."],"executor":"function","function":"nope"}'
deploy ver 400 "executor: expected 'wagi' or 'function'.*got 'cgi'" "$HT/a.wasm" \
    '{"routes":["/v/..."],"executor":"cgi"}'
deploy other 201 '' "$HT/a.wasm" '{"routes":["/o/..."]}'
deploy ver 400 "route '/o/...' of service 'ver' is already served by service 'other'" \
    "$HT/a.wasm" '{"routes":["/v/...","/o/..."]}'
deploy ver 400 'limits: max_memory must be at least one page' "$HT/a.wasm" \
    '{"routes":["/v/..."],"limits":{"max_memory":"1KiB"}}'
deploy ver 400 "max_memory: expected a size like 64MiB, got 'lots'" "$HT/a.wasm" \
    '{"routes":["/v/..."],"limits":{"max_memory":"lots"}}'
deploy ver 400 'limits: max_response of 8388608 bytes is more than this server allows' \
    "$HT/a.wasm" '{"routes":["/v/..."],"limits":{"max_response":"8MiB"}}'
deploy ver 400 "limits: unknown key 'timout'" "$HT/a.wasm" '{"routes":["/v/..."],"limits":{"timout":"1s"}}'
req "not JSON" 400 'must be a JSON object' -X PUT --data 'nonsense' "$(ADMIN /v1/services/ver)"
req "bad base64" 400 'not valid base64' -X PUT --data '{"module":"!!","config":{}}' \
    "$(ADMIN /v1/services/ver)"
req "bad name" 400 "service name 'a(%20| )b'" -X PUT --data-binary "@$HT/put.json" \
    "$(ADMIN /v1/services/a%20b)"
req "still version B" 200 '^version B$' "$(URL /v/x)"
req "still version 4" 200 '^\{"version":4,' "$(ADMIN /v1/services/ver)"

# ---- Metrics -------------------------------------------------------------------------
deploy g 201 '' "$HT/guest.wasm" \
    '{"routes":["/g/..."],"limits":{"timeout":"5s","fuel":"5000000"}}'
deploy fn 201 '' "$HT/plugin.wasm" \
    '{"routes":["/fn/..."],"executor":"function","instances":{"reuse":"100"}}'
req "trap" 500 'error id' "$(URL /g/trap)"
[ "$(sed -n 's/^x-wharf-error-id: *\([0-9a-f]*\).*/\1/ip' "$HT/head" | tr -d '\r')" = \
  "$(sed -n 's/^x-request-id: *\([0-9a-f]*\).*/\1/ip' "$HT/head" | tr -d '\r')" ] && pass ||
    fail "the error id is the request id"
id=$(sed -n 's/^x-request-id: *\([0-9a-f]\{8\}\).*/\1/ip' "$HT/head" | tr -d '\r')
logged "error line with the request id" "level=error id=$id service=g status=500"
logged "access line with the request id" "msg=request id=$id .*status=500 service=g"
req "out of fuel" 504 'out of fuel' "$(URL /g/loop)"
req "guest ok" 200 '' "$(URL /g/env)"
req "function" 200 '^fn ' "$(URL /fn/x)"
metric "requests by class" '^wharf_requests_total\{service="g",class="5xx"\} 2$'
metric "requests 2xx" '^wharf_requests_total\{service="ver",class="2xx"\} [1-9]'
metric "histogram" '^wharf_request_duration_seconds_bucket\{service="g",le="\+Inf"\} 3$'
metric "histogram sum" '^wharf_request_duration_seconds_sum\{service="g"\} [0-9.]+$'
metric "traps" '^wharf_traps_total\{service="g"\} 1$'
metric "fuel exhausted" '^wharf_fuel_exhausted_total\{service="g"\} 1$'
metric "fuel used" '^wharf_fuel_used_total\{service="g"\} [1-9][0-9]*$'
metric "instances pooled" '^wharf_instances_pooled\{service="fn"\} 1$'
metric "instances active" '^wharf_instances_active\{service="g"\} 0$'
metric "linear memory" '^wharf_linear_memory_bytes\{service="fn"\} [1-9][0-9]*$'
metric "linear memory max" '^wharf_linear_memory_max_bytes\{service="g"\} [1-9][0-9]*$'
metric "uptime" '^wharf_uptime_seconds [0-9.]+$'
metric "rss" '^process_resident_memory_bytes [1-9][0-9]*$'
metric "compile cache misses" '^wharf_compile_cache_misses_total [1-9]'
metric "service version" '^wharf_service_version\{service="ver"\} 4$'
metric "type lines" '^# TYPE wharf_request_duration_seconds histogram$'
deploy g 200 '' "$HT/guest.wasm" '{"routes":["/g/..."],"limits":{"timeout":"300ms"}}'
req "timeout" 504 'out of time' "$(URL /g/loop)"
metric "timeouts" '^wharf_timeouts_total\{service="g"\} 1$'
metric "counters survive versions" '^wharf_traps_total\{service="g"\} 1$'

# ---- Atomic swaps under load: 100 changes, no failed request ---------------------
out=$(python3 tests/http/admin.py swap "$port" "$aport" /v/x ver "$HT/a.wasm" "$HT/b.wasm" 100 4)
case $out in "ok "*" bodies=A,B") pass ;; *) fail "swap under load: $out" ;; esac
sleep 0.5
curl -s "$(ADMIN /metrics)" >"$HT/metrics"
live=$(sed -n 's/^wharf_versions_live //p' "$HT/metrics")
services=$(sed -n 's/^wharf_services //p' "$HT/metrics")
[ -n "$live" ] && [ "$live" = "$services" ] && pass ||
    fail "replaced versions not freed: $live live for $services services"

# ---- The CLI client ------------------------------------------------------------------
A="--admin $(ADMIN '')"
printf 'routes: [/cli/...]\nenvironment:\n  VERSION: yaml\n' >"$HT/cli.yaml"
check "cli deploy" 0 "deployed cli: version 1, module sha256 $(echo "$sha_a" | cut -c1-12)" '' \
    deploy cli "$HT/a.wasm" --route '/cli/...' $A
check "cli update" 0 "updated cli: version 2, module sha256 $(sha256sum "$HT/versioned.wasm" |
    cut -c1-12)" '' deploy cli "$HT/versioned.wasm" --config "$HT/cli.yaml" $A
req "cli config applied" 200 '^version yaml$' "$(URL /cli/x)"
timeout 10 "$WHARF" services $A >"$HT/list"
grep -Eq '^cli +2  wagi ' "$HT/list" && grep -Eq '^ver ' "$HT/list" && pass ||
    fail "wharf services: $(cat "$HT/list")"
timeout 10 "$WHARF" services cli $A | grep -q '"history"' && pass || fail "wharf services NAME"
check "cli rollback" 0 "rolled back cli: version 3, module sha256 $(echo "$sha_a" | cut -c1-12)" \
    '' rollback cli $A
check "cli refused" 3 '' "deploy bad: route '/cli/...' of service 'bad' is already served by service 'cli' \(HTTP 400, request id [0-9a-f]{8}\)" \
    deploy bad "$HT/a.wasm" --route '/cli/...' $A
check "cli undeploy" 0 'undeployed cli' '' undeploy cli $A
check "cli undeploy unknown" 3 '' "undeploy cli: no service 'cli' \(HTTP 404" undeploy cli $A
check "cli no server" 1 '' 'cannot reach the admin API at http://127.0.0.1:1' \
    services --admin http://127.0.0.1:1
check "cli usage" 2 '' 'missing MODULE.wasm' deploy cli $A
stop_freed

# ---- Persistence across a restart -----------------------------------------------------
start restart --state-dir "$HT/state" || finish
req "restored" 200 '^version [AB]$' "$(URL /v/x)"
cp "$HT/body" "$HT/before"
req "restored version" 200 '^\{"version":105,' "$(ADMIN /v1/services/ver)"
req "restored history" 200 '"history":\[\{"version":105,.*\{"version":104,' "$(ADMIN /v1/services/ver)"
req "restored slow" 200 '^version two$' "$(URL /slow)"
req "undeployed stays undeployed" 404 '' "$(URL /cli/x)"
logged "restore logged" 'msg=restored service=ver version=105 origin=api'
[ "$(ls "$HT/state/modules" | wc -l)" -le 5 ] && pass || fail "unused modules collected"
stop_freed

# ---- A crash in the middle of a deploy leaves the previous state ----------------------
export WHARF_TEST_STATE_WRITE_DELAY_MS=5000
start crash --state-dir "$HT/state" || finish
unset WHARF_TEST_STATE_WRITE_DELAY_MS
body "$HT/versioned.wasm" '{"routes":["/v/..."],"environment":{"VERSION":"crashed"}}'
curl -s -o /dev/null --max-time 30 -X PUT --data-binary "@$HT/put.json" \
    "$(ADMIN /v1/services/ver)" &
c1=$!
for _ in $(seq 100); do
    ls -a "$HT/state/services" "$HT/state/modules" | grep -q '^#' && break
    sleep 0.05
done
ls -a "$HT/state/services" "$HT/state/modules" | grep -q '^#' && pass ||
    fail "no temporary file appeared during the deploy"
kill -9 "$pid"
wait "$pid" 2>/dev/null
wait "$c1" 2>/dev/null
start recovered --state-dir "$HT/state" || finish
req "previous state intact" 200 '' "$(URL /v/x)"
cmp -s "$HT/body" "$HT/before" && pass || fail "after the crash: $(cat "$HT/body")"
req "previous version intact" 200 '^\{"version":105,' "$(ADMIN /v1/services/ver)"
ls -a "$HT/state/services" "$HT/state/modules" | grep -q '^#' &&
    fail "temporary files left after restart" || pass
deploy ver 200 '"version":106' "$HT/versioned.wasm" \
    '{"routes":["/v/..."],"environment":{"VERSION":"after"}}'
req "deploys work after a crash" 200 '^version after$' "$(URL /v/x)"

# ---- SIGTERM: stop accepting, finish requests in flight, exit 0 ------------------------
curl -s --max-time 30 "$(URL '/slow?ms=1500')" >"$HT/inflight" &
c1=$!
python3 tests/http/admin.py idle "$port" /v/x >"$HT/idle" &
c2=$!
sleep 0.5
kill -TERM "$pid"
sleep 0.3
req "not ready while draining" 503 '^not ready$' "$(ADMIN /readyz)"
new=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$(URL /v/x)")
[ "$new" = 000 ] && pass || fail "a new connection while draining got $new"
wait "$c1" "$c2"
[ "$(cat "$HT/inflight")" = "version two" ] && pass ||
    fail "in-flight request at SIGTERM: '$(cat "$HT/inflight")'"
[ "$(cat "$HT/idle")" = "closed after 0 s" ] && pass ||
    fail "an idle keep-alive connection at SIGTERM: $(cat "$HT/idle")"
wait "$pid"
rc=$?
[ "$rc" = 0 ] && pass || fail "exit status $rc after SIGTERM with a request in flight"
logged "grace in the log" 'msg="shutting down" signal=15 grace_ms=5000'

# ---- SIGHUP reloads wharf.yaml, all or nothing ------------------------------------------
cp "$HT/versioned.wasm" "$HT/file.wasm"
cat >"$HT/serve.yaml" <<'EOF'
services:
  file:
    module: file.wasm
    routes: [/f/...]
    environment: { VERSION: one }
  gone:
    module: file.wasm
    routes: [/gone]
EOF
start hup --grace 2s --state-dir "$HT/state" "$HT/serve.yaml" || finish
req "file service" 200 '^version one$' "$(URL /f/x)"
req "api service beside the file" 200 '^version after$' "$(URL /v/x)"
sed -i 's/VERSION: one/VERSION: two/; /^  gone:/,$d' "$HT/serve.yaml"
kill -HUP "$pid"
logged "reloaded" 'msg="config reloaded"'
req "reloaded service" 200 '^version two$' "$(URL /f/x)"
req "removed from the file" 404 '' "$(URL /gone)"
req "api service untouched" 200 '^version after$' "$(URL /v/x)"
req "file version" 200 '"version":2,"origin":"config"' "$(ADMIN /v1/services/file)"
printf 'services:\n  file: { module: file.wasm, routes: [/v/...] }\n' >"$HT/serve.yaml"
kill -HUP "$pid"
logged "clash refused" 'config not reloaded: nothing changed.*route .*/v/\.\.\..* already served by service .ver.'
printf 'services:\n  file: [broken\n' >"$HT/serve.yaml"
kill -HUP "$pid"
logged "bad yaml refused" 'config not reloaded: nothing changed.*YAML syntax error'
req "still the last good version" 200 '^version two$' "$(URL /f/x)"
stop_freed
logged "--grace" 'msg="shutting down" signal=15 grace_ms=2000'

# ---- The token ------------------------------------------------------------------------
echo 's3cret-token' >"$HT/token"
start token --admin-token-file "$HT/token" || finish
req "healthz needs no token" 200 '^ok$' "$(ADMIN /healthz)"
req "no token" 401 'missing or wrong bearer token' "$(ADMIN /v1/services)"
header "401 without WWW-Authenticate" '^www-authenticate: Bearer'
req "wrong token" 401 '' -H 'Authorization: Bearer nope' "$(ADMIN /v1/services)"
req "metrics need the token" 401 '' "$(ADMIN /metrics)"
req "right token" 200 '^\{"services"' -H 'Authorization: Bearer s3cret-token' "$(ADMIN /v1/services)"
export WHARF_ADMIN_TOKEN=s3cret-token
check "cli with the token" 0 "deployed t: version 1, module sha256 $(echo "$sha_a" |
    cut -c1-12)" '' deploy t "$HT/a.wasm" --route /t --admin "$(ADMIN '')"
unset WHARF_ADMIN_TOKEN
check "cli without the token" 1 '' 'deploy t: missing or wrong bearer token \(HTTP 401' \
    deploy t "$HT/a.wasm" --route /t --admin "$(ADMIN '')"
stop_freed
check "off loopback without a token" 1 '' 'the admin API off loopback needs a token' \
    serve --listen 127.0.0.1:0 --admin 0.0.0.0:0

finish
