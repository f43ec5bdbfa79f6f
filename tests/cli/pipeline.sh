#!/bin/sh
# pipeline.sh: pipelines and streaming stages of `wharf serve` (issue 6;
# docs/config.md, "Pipelines"). Covers their configuration errors, a
# 3-stage chain, a failing stage named with its status (422 for a plugin
# error, 500 for a trap, 504 for time and fuel, 413 for a body too large),
# chunk boundaries, and the examples as examples/wharf.yaml serves them:
# CSV to HTML, the ml example's predictions for known inputs, and a 64 MiB
# body streamed through stages limited to 2 MiB of memory. Servers listen
# on free loopback ports and are stopped by their PID.
. tests/cli/harness.inc
D=$BUILD/pipeline-tests/run.$$      # kept when something failed
mkdir -p "$D"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null
      rm -rf "$TMP"; [ "$failed" = 0 ] && rm -rf "$D"' EXIT

for m in pipeline ml stream; do
    [ -f "build/examples/$m.wasm" ] || { fail "build/examples/$m.wasm missing (make examples)"; finish; }
done
clang --target=wasm32 -nostdlib -mbulk-memory -O1 -Isdk/c -Wl,--no-entry \
    -o "$D/stages.wasm" "$SRC/stages.c" || { fail "build stages.wasm"; finish; }

# ---- Helpers ---------------------------------------------------------------

# serve NAME CONFIG: starts `wharf serve CONFIG` on a free port, logging to
# $D/NAME.log; sets $pid, $port and $log once it listens.
serve() {
    log=$D/$1.log
    : >"$log"               # before the background shell opens it
    LSAN_OPTIONS="suppressions=$PWD/tests/http/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        "$WHARF" serve --listen 127.0.0.1:0 --workers 2 "$2" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        port=$(sed -n 's/.*msg=listening addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "$1: the server did not start: $(tail -n 3 "$log")"
    finish
}

# halt: SIGTERM; the server must exit 0 (leak-free under ASan).
halt() {
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    pid=""
    [ "$rc" = 0 ] && pass || fail "server exit status $rc: $(tail -n 3 "$log")"
}

# post NAME PATH STATUS ERE [CURL_ARGS...]: one request (a POST when the
# args carry data); checks the status and that the body matches ERE ('' for
# any). Leaves the body in $D/body, the headers in $D/head.
post() {
    name=$1 path=$2 want=$3 pat=$4
    shift 4
    got=$(curl -s -o "$D/body" -D "$D/head" -w '%{http_code}' --max-time 120 \
          "$@" "http://127.0.0.1:$port$path")
    if [ "$got" != "$want" ]; then
        fail "$name: status $got, want $want"
        head -c 300 "$D/body" | sed 's/^/    /'
    elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$D/body"; then
        fail "$name: body does not match /$pat/"
        head -c 300 "$D/body" | sed 's/^/    /'
    else
        pass
    fi
}

# has NAME ERE: the last response has a header line matching ERE.
has() {
    grep -Eiq -- "$2" "$D/head" && pass || fail "$1: no header /$2/"
}

# logged NAME ERE: the log line of the last error response's id matches ERE.
logged() {
    id=$(sed -n 's/^x-wharf-error-id: *\([0-9a-f]*\).*/\1/ip' "$D/head" | tr -d '\r')
    sleep 0.1
    [ -n "$id" ] && grep -Eq "id=$id .*$2" "$log" && pass ||
        fail "$1: no log line for error id '$id' matching /$2/"
}

# bad NAME STATUS ERE: `serve --check` of the YAML on stdin fails with
# STATUS and one line matching ERE.
bad() {
    cat >"$D/bad.yaml"
    check "$1" "$2" '' "$3" serve --check "$D/bad.yaml"
}

# ---- Configuration errors ----------------------------------------------------

bad "stage without module" 2 "bad\.yaml:5: pipeline stage 1: missing 'module'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - function: tag
EOF
bad "module beside pipeline" 2 "bad\.yaml:2: service 'p': 'module' does not go with 'pipeline'" <<'EOF'
services:
  p:
    module: stages.wasm
    routes: [/p]
    pipeline: [{ module: stages.wasm }]
EOF
bad "service limits per stage" 2 "bad\.yaml:7: limits: unknown key 'max_concurrent'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - module: stages.wasm
        limits:
          max_concurrent: 3
EOF
bad "chunk needs stream" 2 "bad\.yaml:4: stage 'tag': 'chunk' needs 'stream'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline: [{ module: stages.wasm, function: tag, chunk: 1KiB }]
EOF
bad "stream kind" 2 "bad\.yaml:4: stream: expected 'lines' or 'bytes', got 'words'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline: [{ module: stages.wasm, stream: words }]
EOF
bad "chunk within memory" 2 "stage 'tag': chunk must be smaller than limits.max_memory" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - { module: stages.wasm, function: tag, stream: bytes, chunk: 2MiB, limits: { max_memory: 1MiB } }
EOF
bad "stage names" 2 "bad\.yaml:6: pipeline: two stages named 'tag'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - { module: stages.wasm, function: tag }
      - { module: stages.wasm, function: tag }
EOF
bad "content_type alone" 2 "service 'p': 'content_type' needs 'pipeline'" <<'EOF'
services:
  p:
    module: stages.wasm
    routes: [/p]
    content_type: text/plain
EOF
cp "$D/stages.wasm" "$D/bad-stages.wasm"
bad "missing function" 3 "bad\.yaml:5: service 'p': stage 'second' \(line 6\): .*no exported function 'nope'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - { module: bad-stages.wasm, function: tag }
      - { module: bad-stages.wasm, function: nope, name: second }
EOF

# ---- Stages: chaining, errors, limits, chunks -------------------------------------

cat >"$D/stages.yaml" <<EOF
services:
  chain:
    routes: [/chain]
    content_type: text/x-chain
    pipeline:
      - { name: a, module: stages.wasm, function: tag, config: { tag: a } }
      - { name: b, module: stages.wasm, function: tag, config: { tag: b } }
      - { name: c, module: stages.wasm, function: tag, config: { tag: c } }
  reject:
    routes: [/reject]
    pipeline:
      - { name: first, module: stages.wasm, function: tag, config: { tag: a } }
      - { name: picky, module: stages.wasm, function: reject }
      - { name: never, module: stages.wasm, function: trap }
  teapot:
    routes: [/teapot]
    pipeline: [{ module: stages.wasm, function: reject, error_status: 418 }]
  trap:
    routes: [/trap]
    pipeline:
      - { name: fine, module: stages.wasm, function: tag, config: { tag: a } }
      - { name: boom, module: stages.wasm, function: trap }
  slow:
    routes: [/slow]
    pipeline: [{ name: loop, module: stages.wasm, function: spin, limits: { timeout: 300ms } }]
  fuel:
    routes: [/fuel]
    pipeline: [{ name: burner, module: stages.wasm, function: spin, limits: { fuel: 1000000 } }]
  deadline:
    routes: [/deadline]
    limits: { timeout: 300ms }
    pipeline:
      - { name: plod, module: stages.wasm, function: busy, stream: bytes, chunk: 1KiB }
  bounded:
    routes: [/bounded]
    pipeline:
      - { name: doubler, module: stages.wasm, function: twice, limits: { max_output: 1KiB } }
  lines:
    routes: [/lines]
    pipeline: [{ module: stages.wasm, function: chunks, stream: lines, chunk: 16 }]
  bytes:
    routes: [/bytes]
    pipeline: [{ module: stages.wasm, function: chunks, stream: bytes, chunk: 16 }]
  whole:
    routes: [/whole]
    limits: { max_body: 64MiB }
    pipeline:
      - module: $PWD/build/examples/stream.wasm
        function: upper
        limits: { max_memory: 2MiB }
EOF
serve stages "$D/stages.yaml"

post "3 stages in order" /chain 200 '^x\|a\|b\|c$' --data-binary x
has "content_type" '^content-type: text/x-chain'
post "empty body" /chain 200 '^\|a\|b\|c$'

post "plugin error" /reject 422 "stage 'picky': no thanks \(error id"
has "plugin error names the stage" '^x-wharf-stage: picky'
logged "plugin error" 'service=reject status=422 error="stage picky: plugin error: no thanks"'
post "error_status" /teapot 418 "stage 'reject': no thanks"

post "trap" /trap 500 "stage 'boom' failed \(error id"
has "trap names the stage" '^x-wharf-stage: boom'
logged "trap" 'service=trap status=500 error="stage boom: trap: .*unreachable'
post "stage timeout" /slow 504 "stage 'loop' ran out of time"
logged "stage timeout" 'service=slow status=504 error="stage loop: trap'
post "stage fuel" /fuel 504 "stage 'burner' ran out of fuel"
head -c 100000 /dev/zero | tr '\0' x >"$D/100k"
post "pipeline timeout" /deadline 504 "the pipeline ran out of time at stage 'plod'" \
    --data-binary "@$D/100k"
post "max_output" /bounded 500 "stage 'doubler' wrote too much output" --data-binary "@$D/100k"
post "within max_output" /bounded 200 '^abab$' --data-binary ab

printf '1234\n12345678\n123\n' >"$D/lines"
post "chunks of whole lines" /lines 200 '^\[14\]\[4\]end$' --data-binary "@$D/lines"
post "chunks of bytes" /bytes 200 '^\[16\]\[2\]end$' --data-binary "@$D/lines"
post "end of an empty stream" /lines 200 '^end$'
post "line longer than a chunk" /lines 413 "a line is longer than stage 'chunks' takes \(16 bytes\)" \
    --data-binary "@$D/100k"

yes 'some text, line after line' | head -c 4194304 >"$D/4m"
post "body over a stage's memory" /whole 413 "too large for stage 'upper'" --data-binary "@$D/4m"
post "still serving" /chain 200 '^x\|a\|b\|c$' --data-binary x
halt

# ---- The examples, as examples/wharf.yaml serves them ----------------------------

serve examples examples/wharf.yaml

post "csv to html" /report 200 '<td>8\.20</td></tr>' --data-binary @examples/pipeline/orders.csv
has "csv to html" '^content-type: text/html'
grep -q '<thead><tr><th>item</th><th>qty</th><th>price</th><th>total</th></tr>' "$D/body" &&
    grep -q '<td>say &quot;cheese&quot;</td>' "$D/body" && grep -q '<td>pear, green</td>' "$D/body" &&
    pass || fail "csv to html: table head, quoting and escaping"
printf 'item,qty,price\napple,3\n' >"$D/short.csv"
post "bad csv" /report 422 "stage 'parse': line 2: expected 3 fields, got 2" \
    --data-binary "@$D/short.csv"
printf 'item,qty,price\napple,three,1\n' >"$D/nan.csv"
post "bad number" /report 422 "stage 'transform': line 2: not a number: 'three'" \
    --data-binary "@$D/nan.csv"

post "ml predict" /ml/predict 200 \
    '^\{"class":"virginica","probabilities":\{"setosa":0\.000,"versicolor":0\.361,"virginica":0\.639\}\}$' \
    --data-binary '6.0 2.7 5.1 1.6'
has "ml predict" '^content-type: application/json'
post "ml setosa" /ml/predict 200 '^\{"class":"setosa","probabilities":\{"setosa":1\.000' \
    --data-binary '[5.0, 3.4, 1.5, 0.25]'
post "ml versicolor" /ml/predict 200 '^\{"class":"versicolor"' --data-binary '5.9,2.8,4.3,1.3'
post "ml wrong length" /ml/predict 422 "stage 'predict': expected 4 f32 values \(16 bytes\), got 12 bytes" \
    --data-binary '6.0 2.7 5.1'
post "ml not a number" /ml/predict 422 "stage 'parse': expected at most 16 numbers; stuck at byte 4" \
    --data-binary '6.0 two'

# 64 MiB through stages of 2 MiB memory; the counts must be wc's.
yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c 67108864 >"$D/64m"
want=$(wc -l -w -c <"$D/64m" | awk '{ printf "lines %d words %d bytes %d", $1, $2, $3 }')
post "stream 64 MiB" /stream/count 200 "^$want\$" --data-binary "@$D/64m"
seq 200000 | awk '{ print (NR % 3 ? "info" : "ERROR"), "event", $1 }' >"$D/log"
want=$(grep ERROR "$D/log" | wc -l -w -c | awk '{ printf "lines %d words %d bytes %d", $1, $2, $3 }')
post "two streaming stages" /stream/errors 200 "^$want\$" --data-binary "@$D/log"
post "stream upper" /stream/upper 200 '' --data-binary "@$D/4m"
tr a-z A-Z <"$D/4m" | cmp -s - "$D/body" && pass || fail "stream upper: output differs from tr"
halt

finish
