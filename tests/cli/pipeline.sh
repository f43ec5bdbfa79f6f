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
HT=$BUILD/pipeline-tests/run.$$
SERVE_ARGS="--workers 2"
MAX_TIME=120                        # 64 MiB through streaming stages
. tests/cli/server.inc

for m in pipeline ml stream; do
    [ -f "build/examples/$m.wasm" ] || { fail "build/examples/$m.wasm missing (make examples)"; finish; }
done
clang --target=wasm32 -nostdlib -mbulk-memory -O1 -Isdk/c -Wl,--no-entry \
    -o "$HT/stages.wasm" "$SRC/stages.c" || { fail "build stages.wasm"; finish; }

# ---- Helpers ---------------------------------------------------------------

# post NAME PATH STATUS ERE [CURL_ARGS...]: req on PATH (a POST when the
# args carry data).
post() {
    name=$1 path=$2; shift 2
    req "$name" "$@" "$(URL "$path")"
}

# logged NAME ERE: the log line of the last error response's id matches ERE.
logged() {
    id=$(sed -n 's/^x-wharf-error-id: *\([0-9a-f]*\).*/\1/ip' "$HT/head" | tr -d '\r')
    sleep 0.1
    [ -n "$id" ] && grep -Eq "id=$id .*$2" "$log" && pass ||
        fail "$1: no log line for error id '$id' matching /$2/"
}

# bad NAME STATUS ERE: `serve --check` of the YAML on stdin fails with
# STATUS and one line matching ERE.
bad() {
    cat >"$HT/bad.yaml"
    check "$1" "$2" '' "$3" serve --check "$HT/bad.yaml"
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
cp "$HT/stages.wasm" "$HT/bad-stages.wasm"
bad "missing function" 3 "bad\.yaml:5: service 'p': stage 'second' \(line 6\): .*no exported function 'nope'" <<'EOF'
services:
  p:
    routes: [/p]
    pipeline:
      - { module: bad-stages.wasm, function: tag }
      - { module: bad-stages.wasm, function: nope, name: second }
EOF

# ---- Stages: chaining, errors, limits, chunks -------------------------------------

cat >"$HT/stages.yaml" <<EOF
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
start stages "$HT/stages.yaml" || finish

post "3 stages in order" /chain 200 '^x\|a\|b\|c$' --data-binary x
header "content_type" '^content-type: text/x-chain'
post "empty body" /chain 200 '^\|a\|b\|c$'

post "plugin error" /reject 422 "stage 'picky': no thanks \(error id"
header "plugin error names the stage" '^x-wharf-stage: picky'
logged "plugin error" 'service=reject status=422 error="stage picky: plugin error: no thanks"'
post "error_status" /teapot 418 "stage 'reject': no thanks"

post "trap" /trap 500 "stage 'boom' failed \(error id"
header "trap names the stage" '^x-wharf-stage: boom'
logged "trap" 'service=trap status=500 error="stage boom: trap: .*unreachable'
post "stage timeout" /slow 504 "stage 'loop' ran out of time"
logged "stage timeout" 'service=slow status=504 error="stage loop: trap'
post "stage fuel" /fuel 504 "stage 'burner' ran out of fuel"
head -c 100000 /dev/zero | tr '\0' x >"$HT/100k"
post "pipeline timeout" /deadline 504 "the pipeline ran out of time at stage 'plod'" \
    --data-binary "@$HT/100k"
post "max_output" /bounded 500 "stage 'doubler' wrote too much output" --data-binary "@$HT/100k"
post "within max_output" /bounded 200 '^abab$' --data-binary ab

printf '1234\n12345678\n123\n' >"$HT/lines"
post "chunks of whole lines" /lines 200 '^\[14\]\[4\]end$' --data-binary "@$HT/lines"
post "chunks of bytes" /bytes 200 '^\[16\]\[2\]end$' --data-binary "@$HT/lines"
post "end of an empty stream" /lines 200 '^end$'
post "line longer than a chunk" /lines 413 "a line is longer than stage 'chunks' takes \(16 bytes\)" \
    --data-binary "@$HT/100k"

yes 'some text, line after line' | head -c 4194304 >"$HT/4m"
post "body over a stage's memory" /whole 413 "too large for stage 'upper'" --data-binary "@$HT/4m"
post "still serving" /chain 200 '^x\|a\|b\|c$' --data-binary x
stop

# ---- The examples, as examples/wharf.yaml serves them ----------------------------

start examples examples/wharf.yaml || finish

post "csv to html" /report 200 '<td>8\.20</td></tr>' --data-binary @examples/pipeline/orders.csv
header "csv to html" '^content-type: text/html'
grep -q '<thead><tr><th>item</th><th>qty</th><th>price</th><th>total</th></tr>' "$HT/body" &&
    grep -q '<td>say &quot;cheese&quot;</td>' "$HT/body" && grep -q '<td>pear, green</td>' "$HT/body" &&
    pass || fail "csv to html: table head, quoting and escaping"
printf 'item,qty,price\napple,3\n' >"$HT/short.csv"
post "bad csv" /report 422 "stage 'parse': line 2: expected 3 fields, got 2" \
    --data-binary "@$HT/short.csv"
printf 'item,qty,price\napple,three,1\n' >"$HT/nan.csv"
post "bad number" /report 422 "stage 'transform': line 2: not a number: 'three'" \
    --data-binary "@$HT/nan.csv"

post "ml predict" /ml/predict 200 \
    '^\{"class":"virginica","probabilities":\{"setosa":0\.000,"versicolor":0\.361,"virginica":0\.639\}\}$' \
    --data-binary '6.0 2.7 5.1 1.6'
header "ml predict" '^content-type: application/json'
post "ml setosa" /ml/predict 200 '^\{"class":"setosa","probabilities":\{"setosa":1\.000' \
    --data-binary '[5.0, 3.4, 1.5, 0.25]'
post "ml versicolor" /ml/predict 200 '^\{"class":"versicolor"' --data-binary '5.9,2.8,4.3,1.3'
post "ml wrong length" /ml/predict 422 "stage 'predict': expected 4 f32 values \(16 bytes\), got 12 bytes" \
    --data-binary '6.0 2.7 5.1'
post "ml not a number" /ml/predict 422 "stage 'parse': expected at most 16 numbers; stuck at byte 4" \
    --data-binary '6.0 two'

# 64 MiB through stages of 2 MiB memory; the counts must be wc's.
yes 'the quick brown fox jumps over the lazy dog 0123456789' | head -c 67108864 >"$HT/64m"
want=$(wc -l -w -c <"$HT/64m" | awk '{ printf "lines %d words %d bytes %d", $1, $2, $3 }')
post "stream 64 MiB" /stream/count 200 "^$want\$" --data-binary "@$HT/64m"
seq 200000 | awk '{ print (NR % 3 ? "info" : "ERROR"), "event", $1 }' >"$HT/log"
want=$(grep ERROR "$HT/log" | wc -l -w -c | awk '{ printf "lines %d words %d bytes %d", $1, $2, $3 }')
post "two streaming stages" /stream/errors 200 "^$want\$" --data-binary "@$HT/log"
post "stream upper" /stream/upper 200 '' --data-binary "@$HT/4m"
tr a-z A-Z <"$HT/4m" | cmp -s - "$HT/body" && pass || fail "stream upper: output differs from tr"
stop

finish
