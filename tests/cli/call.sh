#!/bin/sh
# call.sh: golden-style tests of `wharf call`, the plugin command: input
# from the command line, a file and stdin, output bytes unchanged, config,
# WASI and --allow-path, the HTTP allow-list, logs, and each failure's one
# error line and exit status (docs/cli.md). The plugins are tests/plugin/*.c,
# built by make into build/plugin. Run from the repository root; see
# harness.inc.
. tests/cli/harness.inc

P=build/plugin
for name in basic errors state wasi_files; do
    [ -f "$P/$name.wasm" ] || make --no-print-directory -s "$P/$name.wasm" ||
        fail "build $name.wasm"
done
B=$P/basic.wasm
E=$P/errors.wasm
S=$P/state.wasm
W=$P/wasi_files.wasm

# ok NAME STDOUT STDERR ARGS...: "$WHARF call ARGS..." succeeds with exactly
# STDOUT (plugin output is printed as it is, with no newline added) and a
# stderr that is empty ('') or one line matching STDERR.
ok() {
    name=$1 want_out=$2 want_err=$3
    shift 3
    timeout 30 "$WHARF" call "$@" <"$STDIN" >"$OUT/stdout" 2>"$OUT/stderr"
    status=$?
    printf '%s' "$want_out" >"$OUT/want"
    why=""
    [ "$status" = 0 ] || why="$why exit status $status;"
    cmp -s "$OUT/want" "$OUT/stdout" || why="$why stdout '$(cat "$OUT/stdout")';"
    if [ -z "$want_err" ]; then
        [ -s "$OUT/stderr" ] && why="$why stderr '$(head -n 3 "$OUT/stderr")';"
    elif [ "$(wc -l <"$OUT/stderr")" -ne 1 ] || ! grep -Eq -- "$want_err" "$OUT/stderr"; then
        why="$why stderr '$(head -n 3 "$OUT/stderr")';"
    fi
    if [ -z "$why" ]; then pass; else fail "$name:$why"; fi
}

# ---- input and output -------------------------------------------------------
check "help" 0 "$("$WHARF" help call)" '' call --help
ok "count_vowels" '{"count":3}' '' "$B" count_vowels --input "Hello, World!"
ok "options after" 'HELLO' '' --input hello "$B" upper
ok "option=value" 'HELLO' '' "$B" upper --input=hello
ok "no input" '{"count":0}' '' "$B" count_vowels
ok "no output" '' '' "$B" noop --input x
printf 'from a file' >"$OUT/input.txt"
ok "input file" 'FROM A FILE' '' "$B" upper --input-file "$OUT/input.txt"
STDIN=$OUT/input.txt
ok "stdin" 'FROM A FILE' '' "$B" upper --stdin
STDIN=/dev/null
# Output bytes are written as they are: no newline added, NULs kept.
printf 'a\0b' >"$OUT/nul.bin"
timeout 30 "$WHARF" call "$B" echo --input-file "$OUT/nul.bin" >"$OUT/echo.bin"
if cmp -s "$OUT/nul.bin" "$OUT/echo.bin"; then pass; else fail "binary echo differs"; fi
head -c 100000 /dev/zero | tr '\0' 'a' >"$OUT/big.txt"
ok "large input" '{"count":100000}' '' "$B" count_vowels --input-file "$OUT/big.txt"

# ---- config, logs, WASI -------------------------------------------------------
ok "config" 'v=1' '' "$S" config --input key --config key=v=1 --config other=2
check "config missing" 1 '' "^wharf: error: config: no such config key$" \
    call "$S" config --input nope --config key=1
ok "logs" '4' "^error: error line$" "$S" logs --log-level error
ok "logs off" '5' '' "$S" logs
mkdir -p "$OUT/data"
printf 'file contents' >"$OUT/data/f.txt"
ok "wasi allow-path" 'file contents' '' \
    "$W" read_file --allow-path "$OUT/data::/d" --input /d/f.txt
check "wasi no path" 1 '' "^wharf: error: read_file: cannot open /d/f.txt$" \
    call "$W" read_file --wasi --input /d/f.txt
check "wasi needed" 4 '' "^wharf: error: .*wasi_snapshot_preview1" call "$W" greet

# ---- failures -------------------------------------------------------------------
check "plugin error" 1 '' "^wharf: error: fail: something went wrong$" call "$E" fail
check "plugin return code" 1 '' "^wharf: error: fail_code: .*returned 7$" call "$E" fail_code
check "trap" 134 '' "^wharf: error: unreachable" call "$E" trap
check "bad handle" 134 '' "^wharf: error: invalid handle" call "$E" bad_handle
check "fuel" 137 '' "^wharf: error: fuel exhausted" call "$E" spin --fuel 100000
check "timeout" 137 '' "^wharf: error: deadline" call "$E" spin --timeout 100ms
ok "max memory" 'ok' '' "$S" alloc --max-memory 2MiB
check "no such function" 2 '' "^wharf: error: .*no plugin function 'nope'" call "$B" nope
check "not a plugin function" 2 '' "not a plugin function" call "$E" not_a_plugin_fn
check "missing file" 1 '' "^wharf: error: cannot read 'nope.wasm'" call nope.wasm f
printf 'not wasm' >"$OUT/junk.wasm"
check "malformed" 3 '' "^wharf: error: .*malformed" call "$OUT/junk.wasm" f
check "missing function arg" 2 '' "expected PLUGIN.wasm FUNCTION" call "$B"
check "two inputs" 2 '' "at most one of" call "$B" echo --input a --stdin
check "bad config" 2 '' "^wharf: error: --config: " call "$B" echo --config novalue
check "bad log level" 2 '' "^wharf: error: --log-level: " call "$B" echo --log-level loud
check "bad fuel" 2 '' "^wharf: error: --fuel: " call "$B" echo --fuel 0
check "unknown option" 2 '' "unknown option '--frob'" call "$B" echo --frob

# ---- HTTP: the allow-list (no server needed: nothing may be sent) ----------------
check "http not allowed" 134 '' "^wharf: error: HTTP request to .* is not allowed" \
    call "$S" http_get --input http://127.0.0.1:9/
check "http other host" 134 '' "is not allowed: host not allowed" \
    call "$S" http_get --allow-host example.invalid --input http://127.0.0.1:9/
check "http scheme" 134 '' "only http and https" \
    call "$S" http_get --allow-host '*' --input ftp://127.0.0.1/x
# Allowed, but nothing listens on the discard port of loopback.
check "http refused" 134 '' "^wharf: error: HTTP request to .* failed" \
    call "$S" http_get --allow-host 127.0.0.1 --input http://127.0.0.1:9/

# ---- examples/host-embed: a plugin manager on the C API ------------------------
HE=build/examples/host-embed
[ -x "$HE/host-embed" ] || make --no-print-directory -s examples >/dev/null 2>&1 ||
    fail "make examples"
got=$(timeout 30 "$HE/host-embed" "$HE" process world "brave new world" 2>&1)
want="fail.wasm: error: this plugin always fails
greet.wasm: Hello, world! (from host-embed)
upper.wasm: WORLD
wordcount.wasm: 1 words, 1 in total
fail.wasm: error: this plugin always fails
greet.wasm: Hello, brave new world! (from host-embed)
upper.wasm: BRAVE NEW WORLD
wordcount.wasm: 3 words, 4 in total"
if [ "$got" = "$want" ]; then pass; else fail "host-embed: got '$got'"; fi
finish
