#!/bin/sh
# cli.sh: golden-style tests of the `wharf` command line: help and version,
# usage errors, `inspect`, `run --invoke` argument parsing and result
# printing, WASI commands (args, env, --dir, stdin, exit codes), and bad
# modules (malformed, invalid, missing import). The hostile-module limits
# are in limits.sh. Run from the repository root; see harness.inc.
. tests/cli/harness.inc

wat values
wat inspect --debug-names
wat missing-import
wat invalid --no-check
wat hello
wat start-exit
guest guest
printf '\0asm\1\0\0\0\1\5' >"$OUT/truncated.wasm"
printf 'not wasm at all' >"$OUT/garbage.wasm"
V=$OUT/values.wasm
G=$OUT/guest.wasm

# ---- help, version, usage ------------------------------------------------
check "version" 0 "wharf 0.1.0" '' --version
check "help" 0 "$("$WHARF" help)" '' --help
for cmd in run inspect; do
    if "$WHARF" help | grep -q "^  $cmd "; then pass; else fail "help lists $cmd"; fi
done
check "run --help" 0 "$("$WHARF" help run)" '' run --help
check "inspect --help" 0 "$("$WHARF" help inspect)" '' inspect --help
check "no arguments" 2 "" "^wharf: error: no command given"
check "unknown command" 2 "" "^wharf: error: unknown command 'frobnicate'" frobnicate
check "help unknown" 2 "" "^wharf: error: unknown command" help frobnicate
check "unknown option" 2 "" "^wharf: error: unknown option '--frob'" run --frob "$V"
check "short unknown option" 2 "" "^wharf: error: unknown option '-x'" run -x "$V"
check "missing module" 2 "" "^wharf: error: missing MODULE.wasm" run --fuel 10
check "option without value" 2 "" "needs a value" run --invoke
check "bad fuel" 2 "" "^wharf: error: --fuel: .*'lots'" run --fuel lots "$V"
check "zero fuel" 2 "" "^wharf: error: --fuel: .*'0'" run --fuel 0 "$V"
check "bad timeout" 2 "" "^wharf: error: --timeout: .*'5parsecs'" run --timeout 5parsecs "$V"
check "bad max-memory" 2 "" "^wharf: error: --max-memory: .*'lots'" run --max-memory lots "$V"
check "bad dir" 2 "" "^wharf: error: --dir: " run --dir ::guest "$V"
check "bad env" 2 "" "^wharf: error: --env: " run --env =x "$V"
check "inspect two files" 2 "" "^wharf: error: usage: wharf inspect" inspect "$V" "$V"
check "no such file" 1 "" "^wharf: error: cannot read '$OUT/nope.wasm': No such file" \
    run "$OUT/nope.wasm"
check "directory as module" 1 "" "^wharf: error: cannot read '$OUT': Is a directory" \
    inspect "$OUT"

# ---- inspect -------------------------------------------------------------
check "inspect" 0 "$(sed "s|@OUT@|$OUT|" "$SRC/inspect.golden")" '' inspect "$OUT/inspect.wasm"

# ---- run --invoke: arguments by type, results one per line ----------------
check "invoke add" 0 "5" '' run --invoke add "$V" 2 3
check "invoke add (=)" 0 "5" '' run --invoke=add "$V" 2 3
check "i32 wraps, signed out" 0 "-2" '' run --invoke add "$V" 4294967295 -1
check "i32 hex" 0 "-2147483648" '' run --invoke add "$V" 0x7fffffff 1
check "i32 out of range" 2 "" "argument 1 of 'add': '4294967296' is not a valid i32" \
    run --invoke add "$V" 4294967296 0
check "i32 not a number" 2 "" "argument 2 of 'add': 'x' is not a valid i32" \
    run --invoke add "$V" 1 x
check "i64" 0 "-9223372036854775807" '' run --invoke neg64 "$V" 9223372036854775807
check "i64 unsigned max" 0 "1" '' run --invoke neg64 "$V" 18446744073709551615
check "f32" 0 "0.05" '' run --invoke half32 "$V" 0.1
check "f32 round trip" 0 "3.4028235e+38" '' run --invoke id32 "$V" 3.4028235e38
check "f32 -0" 0 "-0" '' run --invoke id32 "$V" -0
check "f32 nan payload" 0 "nan:0x1" '' run --invoke id32 "$V" nan:0x1
check "f32 inf" 0 "-inf" '' run --invoke id32 "$V" -inf
check "f64 shortest form" 0 "0.1" '' run --invoke id64 "$V" 0.1
check "f64 round trip" 0 "1.7976931348623157e+308" '' run --invoke id64 "$V" 1.7976931348623157e308
check "f64 nan" 0 "-nan" '' run --invoke id64 "$V" -nan
check "f64 hex float" 0 "0.75" '' run --invoke id64 "$V" 0x1.8p-1
check "multi-value" 0 "$(printf '%s\n' -5 7)" '' run --invoke swap "$V" 7 -5
check "no results" 0 "" '' run --invoke nothing "$V"
check "externref null" 0 "1" '' run --invoke isnull "$V" null
check "too few args" 2 "" "'add' takes 2 arguments, 1 given" run --invoke add "$V" 1
check "too many args" 2 "" "'nothing' takes 0 arguments, 1 given" run --invoke nothing "$V" 1
check "no such export" 2 "" "no exported function 'sub'" run --invoke sub "$V"
check "export is not a func" 2 "" "no exported function 'mem'" run --invoke mem "$V"
check "options end at --" 0 "3" '' run --invoke add -- "$V" 1 2

# ---- bad modules -----------------------------------------------------------
check "truncated module" 3 "" "^wharf: error: $OUT/truncated.wasm: malformed module: " \
    run "$OUT/truncated.wasm"
check "garbage module" 3 "" "^wharf: error: .*garbage.wasm: malformed module: .*magic" \
    inspect "$OUT/garbage.wasm"
check "invalid module" 3 "" "^wharf: error: $OUT/invalid.wasm: invalid module: .*type mismatch" \
    run --invoke main "$OUT/invalid.wasm"
check "missing import" 4 "" "^wharf: error: .*env.*nowhere" \
    run --invoke main "$OUT/missing-import.wasm"

# ---- WASI commands -----------------------------------------------------------
check "hello (wat)" 0 "hello" '' run "$OUT/hello.wasm"
check "start function exits" 5 "" '' run "$OUT/start-exit.wasm"
check "args" 0 "$(printf '%s\n' "$G" args one 'two words' --three)" '' \
    run "$G" args one 'two words' --three
check "args after --" 0 "$(printf '%s\n' "$G" args --fuel)" '' run -- "$G" args --fuel
check "env" 0 "FOO=bar" '' run --env FOO=bar "$G" env FOO
check "env empty value" 0 "FOO=" '' run --env FOO= "$G" env FOO
check "env value with =" 0 "FOO=a=b" '' run --env FOO=a=b "$G" env FOO
check "env unset" 0 "HOME is unset" '' run "$G" env HOME
WHARF_TEST_VAR=inherited; export WHARF_TEST_VAR
check "env from host" 0 "WHARF_TEST_VAR=inherited" '' \
    run --env WHARF_TEST_VAR "$G" env WHARF_TEST_VAR
check "env not inherited" 0 "WHARF_TEST_VAR is unset" '' run "$G" env WHARF_TEST_VAR
check "env unset on host" 0 "WHARF_NOT_SET is unset" '' \
    run --env WHARF_NOT_SET "$G" env WHARF_NOT_SET
check "dir mapped" 0 "hello from the host" '' run --dir "$SRC::/data" "$G" cat /data/hello.txt
check "dir as is" 0 "hello from the host" '' run --dir "$SRC" "$G" cat "$SRC/hello.txt"
check "no dir, no file" 1 "" "hello.txt" run "$G" cat "$SRC/hello.txt"
check "dir missing on host" 1 "" "^wharf: error: .*no-such-dir" run --dir "$OUT/no-such-dir" "$G" args
STDIN=$SRC/hello.txt
check "stdin" 0 "hello from the host" '' run "$G" stdin
STDIN=/dev/null
# Streams the caller closed are /dev/null to the guest, as under wasmtime:
# reading gives EOF, writing succeeds, and the run goes on.
out=$("$WHARF" run "$G" stdin 2>&1 <&-); rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] && pass || fail "stdin closed: exit $rc, '$out'"
out=$("$WHARF" run "$G" args 2>&1 >&-); rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] && pass || fail "stdout closed: exit $rc, '$out'"
check "exit code" 7 "" '' run "$G" exit 7
check "exit zero" 0 "" '' run "$G" exit 0
check "wasi trap" 134 "" "^wharf: error: .*unreachable" run "$G" trap
check "invoke on a WASI command" 0 "42" '' run --invoke twice "$G" 21
check "shorthand without run" 0 "$(printf '%s\n' "$G" args)" '' "$G" args

# Start-up cost: libcurl and its ~30 libraries are opened only when first
# needed (src/host/lazycurl.h), so a plain run does not load them.
if ldd "$WHARF" | grep -q libcurl; then fail "wharf links libcurl (+3 ms per run)"; else pass; fi

finish
