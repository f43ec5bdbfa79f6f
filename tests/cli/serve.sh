#!/bin/sh
# serve.sh: integration tests of `wharf serve` (issue 4). Starts the real
# server on a free loopback port (--listen 127.0.0.1:0; the port is read
# from its "listening" log line) and talks to it with curl and with
# tests/http/client.py (pipelining, malformed and slow requests, load).
# Covers config errors, the WAGI and function executors, routing, limits
# (trap, timeout, fuel, memory, sizes, concurrency and its queue), error
# ids in responses and the log, HTTP/1.1 keep-alive and pipelining,
# HTTP/2 cleartext and over TLS, and a clean stop on SIGTERM.
. tests/cli/harness.inc
HT=$BUILD/http-tests/run.$$
. tests/cli/server.inc

# ---- Guests ----------------------------------------------------------------
clang --target=wasm32-wasi -O1 -o "$HT/guest.wasm" tests/http/guest.c ||
    fail "build guest.wasm"
clang --target=wasm32-wasi -mexec-model=reactor -Isdk/c -O1 \
    -o "$HT/plugin.wasm" tests/http/plugin.c || fail "build plugin.wasm"

# ---- Helpers ---------------------------------------------------------------

# error_id NAME: the last response carries an error id, in a header and in
# the body, and the log has a line with it.
error_id() {
    id=$(sed -n 's/^x-wharf-error-id: *\([0-9a-f]\{8\}\).*/\1/ip' "$HT/head" | tr -d '\r')
    if [ -z "$id" ] || ! grep -q "error id $id" "$HT/body"; then
        fail "$1: no error id in the response"
        return
    fi
    sleep 0.1
    grep -q "id=$id .*$2" "$log" && pass || fail "$1: log has no line for id $id matching /$2/"
}

# cfg_error NAME STATUS ERE: `serve --check` on $HT/bad.yaml fails with
# STATUS and one stderr line matching ERE.
cfg_error() {
    check "$1" "$2" '' "$3" serve --check "$HT/bad.yaml"
}

# ---- Configuration errors: one line naming file:line, non-zero exit --------
cat >"$HT/bad.yaml" <<'EOF'
services:
  a:
    module: guest.wasm
    routes: [/a]
    limits:
      timout: 1s
EOF
cfg_error "unknown key" 2 "bad\.yaml:6: limits: unknown key 'timout'"
cat >"$HT/bad.yaml" <<'EOF'
services:
  a:
    module: guest.wasm
    routes: [/a]
    limits: { max_memory: lots }
EOF
cfg_error "bad size" 2 "bad\.yaml:5: max_memory: expected a size"
cat >"$HT/bad.yaml" <<'EOF'
services:
  a: { module: guest.wasm, routes: [/a/...] }
  b:
    module: guest.wasm
    routes:
      - /b
      - /a/...
EOF
cfg_error "route clash" 2 "bad\.yaml:7: route '/a/\.\.\.' of service 'b' is already served by service 'a'"
cat >"$HT/bad.yaml" <<'EOF'
services:
  a:
    module: guest.wasm
    routes: [/a]
    instances: { reuse: 10 }
EOF
cfg_error "reuse with wagi" 2 "bad\.yaml:2: service 'a': 'instances: reuse' needs 'executor: function'"
printf 'services:\n  a: [unclosed\n' >"$HT/bad.yaml"
cfg_error "yaml syntax" 2 "bad\.yaml:[0-9]+: YAML syntax error"
printf 'services:\n  a:\n    routes: [/a]\n    executor: cgi\n' >"$HT/bad.yaml"
cfg_error "bad executor" 2 "bad\.yaml:4: executor: expected 'wagi' or 'function'"
printf 'services:\n  a:\n    module: missing.wasm\n    routes: [/a]\n' >"$HT/bad.yaml"
cfg_error "missing module" 3 "bad\.yaml:3: service 'a': cannot read '.*missing\.wasm'"
printf 'services:\n  a:\n    module: plugin.wasm\n    routes: [/a]\n' >"$HT/bad.yaml"
cfg_error "wagi needs _start" 3 "bad\.yaml:3: service 'a': .*must export \`_start"
printf 'services:\n  a:\n    module: guest.wasm\n    executor: function\n    function: nope\n    routes: [/a]\n' >"$HT/bad.yaml"
cfg_error "function export" 3 "bad\.yaml:3: service 'a': .*"

# ---- The server under test ---------------------------------------------------
cat >"$HT/serve.yaml" <<'EOF'
server:
  request_timeout: 1s
  max_header_bytes: 8KiB
  health: /healthz
services:
  g:
    module: guest.wasm
    routes: [/g/...]
    environment: { NOTE: from-config, SERVER_SOFTWARE: overridden }
    limits: { timeout: 3s, max_memory: 32MiB, max_body: 4KiB, max_response: 64KiB }
  deep:
    module: guest.wasm
    routes: [/g/deep/...]
    dirs: { /data: data }
  exact:
    module: guest.wasm
    routes: [/x/exact]
  slow:
    module: guest.wasm
    routes: [/s/...]
    limits: { timeout: 500ms }
  fuel:
    module: guest.wasm
    routes: [/fuel/...]
    limits: { fuel: 2000000, timeout: 30s }
  narrow:
    module: guest.wasm
    routes: [/n/...]
    limits: { max_concurrent: 1, queue: 1, queue_timeout: 10s, timeout: 10s }
  shortq:
    module: guest.wasm
    routes: [/q/...]
    limits: { max_concurrent: 1, queue: 4, queue_timeout: 300ms, timeout: 10s }
  fn:
    module: plugin.wasm
    executor: function
    routes: [/fn/...]
    config: { greeting: hi from config }
    limits: { timeout: 500ms }
  fnreuse:
    module: plugin.wasm
    executor: function
    routes: [/fr/...]
    instances: { reuse: 100 }
EOF
mkdir -p "$HT/data"
echo "hello from a preopened directory" >"$HT/data/hello.txt"
start main --workers 4 "$HT/serve.yaml" || finish

# WAGI: CGI variables, argv, stdin, the service's own environment.
req "wagi env" 200 '' -H 'X-Custom: one' -H 'Content-Type: text/x-t' \
    "$(URL '/g/env?a=1&b=2')"
for want in 'REQUEST_METHOD=GET' 'PATH_INFO=/env' 'X_RAW_PATH_INFO=/env' \
    'QUERY_STRING=a=1&b=2' 'SERVER_NAME=127\.0\.0\.1' "SERVER_PORT=$port" \
    'CONTENT_TYPE=text/x-t' 'CONTENT_LENGTH=0' 'X_MATCHED_ROUTE=/g/\.\.\.' \
    'SCRIPT_NAME=/g' "X_FULL_URL=http://127\.0\.0\.1:$port/g/env\?a=1&b=2" \
    'HTTP_X_CUSTOM=one' 'GATEWAY_INTERFACE=CGI/1\.1' 'SERVER_PROTOCOL=HTTP/1\.1' \
    'REMOTE_ADDR=127\.0\.0\.1' 'NOTE=from-config' 'SERVER_SOFTWARE=overridden' \
    'argv\[0\]=/g/env' 'argv\[1\]=a=1' 'argv\[2\]=b=2'; do
    grep -Eq "^$want\$" "$HT/body" && pass || fail "wagi env: no line /^$want\$/"
done
req "wagi path decoding" 200 '^PATH_INFO=/env/a b$' "$(URL '/g/deep/env/a%20b')"
grep -q '^X_RAW_PATH_INFO=/env/a%20b$' "$HT/body" && pass || fail "X_RAW_PATH_INFO keeps escapes"
grep -q '^X_MATCHED_ROUTE=/g/deep/\.\.\.$' "$HT/body" && pass || fail "longest prefix wins"
req "wagi stdin" 200 '^posted body$' --data-binary 'posted body' "$(URL /g/echo)"
req "wagi status" 418 '^status 418$' "$(URL '/g/status?code=418')"
header "wagi guest header" '^x-guest: yes'
req "wagi location" 302 '' "$(URL '/g/status?redirect=1')"
header "wagi location" '^location: /elsewhere'
req "preopened dir" 200 '^hello from a preopened directory$' "$(URL /g/deep/read)"
req "no dirs, no files" 404 '' "$(URL /g/read)"
req "exact route" 200 '^path $' "$(URL /x/exact)"
req "exact route only" 404 '' "$(URL /x/exact/more)"
req "no route" 404 '' "$(URL /nowhere)"
req "health" 200 '^ok$' "$(URL /healthz)"
req "guest stderr" 200 '^ok$' "$(URL /g/stderr)"
sleep 0.1
grep -q 'service=g stderr="guest says \\"hi\\""' "$log" && pass || fail "guest stderr logged"

# Isolation: a fresh instance per request keeps nothing between requests.
req "fresh 1" 200 '^calls 1$' "$(URL /g/state)"
req "fresh 2" 200 '^calls 1$' "$(URL /g/state)"
req "fn fresh" 200 '^calls 1$' "$(URL /fn/state)"
req "fn fresh again" 200 '^calls 1$' "$(URL /fn/state)"
# Memories are pooled and reused: pages a guest dirtied (its data, pages
# it grew) read as zero in the next instance (which may get that memory).
req "grow 1" 200 '^grow clean$' "$(URL /g/grow)"
req "grow 2" 200 '^grow clean$' "$(URL /g/grow)"
req "grow 3" 200 '^grow clean$' "$(URL /g/grow)"
# (One connection, so one loop and one worker's instance.)
calls=$(curl -s "$(URL /fr/state)" "$(URL /fr/state)" | sed -n 's/^calls //p' | tr '\n' ' ')
set -- $calls
[ "$#" = 2 ] && [ "$2" = $(($1 + 1)) ] && pass || fail "reuse keeps the instance: calls $calls"

# Failures: status, error id in the response, details in the log.
req "trap" 500 'error id' "$(URL /g/trap)"
error_id "trap" 'service=g status=500 error=.*trap'
req "timeout" 504 'out of time' "$(URL /s/loop)"
error_id "timeout" 'service=slow status=504'
req "fuel" 504 'out of fuel' "$(URL /fuel/loop)"
error_id "fuel" 'service=fuel status=504'
req "memory limit" 500 'error id' "$(URL /g/hog)"
error_id "memory limit" 'service=g status=500'
req "response too large" 500 'too large' "$(URL '/g/big?kb=100')"
req "response within limit" 200 '' "$(URL '/g/big?kb=50')"
req "exit code" 500 '' "$(URL /g/exit)"
error_id "exit code" 'exited with code 3'
req "bad cgi" 500 'invalid response' "$(URL /g/bad)"
error_id "bad cgi" 'malformed header line'
req "no output" 500 'invalid response' "$(URL /g/nothing)"
req "fn trap" 500 'error id' "$(URL /fn/trap)"
req "fn timeout" 504 'out of time' "$(URL /fn/loop)"
req "fn plugin error" 500 '' "$(URL /fn/error)"
error_id "fn plugin error" 'the plugin refused'
req "fn raw output" 500 'invalid response' "$(URL /fn/raw)"
req "fn config" 200 '^hi from config$' "$(URL /fn/config)"
req "fn after trap" 200 '^fn /fn/ok$' "$(URL /fn/ok)"

# Sizes: 413 for a body past max_body, 431 for headers past the server's.
head -c 5000 /dev/zero | tr '\0' a >"$HT/5k"
req "body too large" 413 'error id' --data-binary "@$HT/5k" "$(URL /g/echo)"
req "headers too large" 431 '' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' b)" "$(URL /g/env)"
req "body within limit" 200 '' --data-binary 'small' "$(URL /g/echo)"

# HTTP/1.1: keep-alive (one connection for two requests) and pipelining.
n=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$(URL /g/env)" "$(URL /g/env)" |
    awk '{ n += $1 } END { print n }')
[ "$n" = 1 ] && pass || fail "keep-alive: $n connections for two requests"
out=$(python3 tests/http/client.py pipeline "$port" /g/env 5)
[ "$out" = "200 200 200 200 200 in-order" ] && pass || fail "pipelining: $out"
out=$(python3 tests/http/client.py malformed "$port")
[ "$out" = 400 ] && pass || fail "malformed request: got $out, want 400"

# HTTP/2 over cleartext: prior knowledge (curl), three concurrent streams
# on one connection (nghttp; curl 7.88 cannot reuse an h2c connection).
v=$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' "$(URL /g/env)")
[ "$v" = "2 200" ] && pass || fail "http/2 prior knowledge: $v"
n=$(nghttp -nv "$(URL /g/env)" "$(URL /fn/x)" "$(URL /healthz)" 2>&1 |
    grep -c 'recv (stream_id=[0-9]*) :status: 200')
[ "$n" = 3 ] && pass || fail "http/2 streams on one connection: $n of 3 answered 200"
v=$(curl -s --http2 -o /dev/null -w '%{http_version} %{http_code}' "$(URL /g/env)")
[ "$v" = "2 200" ] && pass || fail "http/2 by Upgrade: h2c: $v"
req "http/2 host" 200 "^HTTP_HOST=127\.0\.0\.1:$port\$" --http2-prior-knowledge "$(URL /g/env)"
req "http/2 error" 504 'out of time' --http2-prior-knowledge "$(URL /s/loop)"

# A slow client is cut off after request_timeout (1 s) while others are served.
python3 tests/http/client.py slow "$port" >"$HT/slow" &
slowpid=$!
python3 tests/http/client.py slow "$port" body >"$HT/slowbody" &
slowbody=$!
req "served beside slow clients" 200 '' "$(URL /g/env)"
wait "$slowpid" "$slowbody"
grep -Eq '^closed after [1-3] s$' "$HT/slow" && pass || fail "slow head: $(cat "$HT/slow")"
grep -Eq '^closed after [1-3] s$' "$HT/slowbody" && pass || fail "slow body: $(cat "$HT/slowbody")"

# Concurrency: one slot and one queue place; the third request gets 503.
curl -s -o "$HT/n1" -w '%{http_code}' --max-time 30 "$(URL '/n/spin?ms=1500')" >"$HT/n1.code" &
c1=$!
sleep 0.4
curl -s -o "$HT/n2" -w '%{http_code}' --max-time 30 "$(URL '/n/spin?ms=10')" >"$HT/n2.code" &
c2=$!
sleep 0.4
req "queue full" 503 'busy' "$(URL '/n/spin?ms=10')"
header "queue full" '^retry-after: 1'
error_id "queue full" 'service=narrow status=503 error="queue full"'
wait "$c1" "$c2"
[ "$(cat "$HT/n1.code") $(cat "$HT/n2.code")" = "200 200" ] && pass ||
    fail "running and queued requests: $(cat "$HT/n1.code") $(cat "$HT/n2.code")"
curl -s -o /dev/null --max-time 30 "$(URL '/q/spin?ms=1500')" &
c1=$!
sleep 0.4
req "queue timeout" 503 'busy' "$(URL '/q/spin?ms=10')"
error_id "queue timeout" 'queue timeout'
wait "$c1"

# Trapping and looping guests beside healthy traffic: every healthy
# request succeeds.
( for _ in 1 2 3 4 5 6; do
      curl -s -o /dev/null "$(URL /s/loop)"; curl -s -o /dev/null "$(URL /g/trap)"
  done ) &
bad=$!
out=$(python3 tests/http/client.py load "$port" 6 40 /g/env /fn/hello /healthz /g/echo)
wait "$bad"
[ "$out" = "200:240" ] && pass || fail "healthy traffic beside failing guests: $out"
req "still serving" 200 '' "$(URL /g/env)"
stop

# ---- TLS: HTTP/2 by ALPN ---------------------------------------------------------
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$HT/key.pem" -out "$HT/cert.pem" \
       -days 1 -subj /CN=localhost >/dev/null 2>&1; then
    start tls --workers 1 --tls-cert "$HT/cert.pem" --tls-key "$HT/key.pem" "$HT/serve.yaml" &&
    v=$(curl -sk -o "$HT/body" -w '%{http_version} %{http_code}' --max-time 20 \
        "https://127.0.0.1:$port/g/env")
    [ "$v" = "2 200" ] && grep -q '^X_FULL_URL=https://' "$HT/body" && pass ||
        fail "https with http/2: $v"
    stop
else
    fail "openssl could not make a test certificate"
fi

finish
