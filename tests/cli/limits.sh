#!/bin/sh
# limits.sh: hostile modules against `wharf run`'s limits and traps. Each
# must end in one clean error line and its documented exit status
# (docs/cli.md): 137 when fuel or time runs out, 134 for a trap, and
# memory.grow past --max-memory returns -1 to the guest. Run from the
# repository root; see harness.inc.
. tests/cli/harness.inc

wat values
wat spin
wat spin-start
wat recurse
wat grow
wat oob
wat traps --debug-names
guest guest

# ---- fuel and time ---------------------------------------------------------
check "fuel stops a loop" 137 "" "^wharf: error: fuel exhausted.*\(--fuel 1000000\)$" \
    run --fuel 1000000 --invoke spin "$OUT/spin.wasm"
check "fuel stops _start" 137 "" "^wharf: error: .*fuel" \
    run --fuel 5000 "$OUT/spin.wasm"
check "fuel enough" 0 "5" '' run --fuel 1000 --invoke add "$OUT/values.wasm" 2 3

# A generous bound on promptness, not a speed test: a 300 ms timeout must
# not let the loop run on for many seconds.
start=$(date +%s)
check "timeout stops a loop" 137 "" "^wharf: error: .*\(--timeout 300ms\)$" \
    run --timeout 300ms --invoke spin "$OUT/spin.wasm"
elapsed=$(($(date +%s) - start))
if [ "$elapsed" -le 10 ]; then pass; else fail "timeout took ${elapsed}s"; fi
check "timeout in us" 137 "" "^wharf: error: .*(deadline|timeout|time)" \
    run --timeout 100us "$OUT/spin.wasm"
check "fuel stops a start function" 137 "" "^wharf: error: fuel exhausted" \
    run --fuel 1000 "$OUT/spin-start.wasm"
check "timeout stops a start function" 137 "" "^wharf: error: .*\(--timeout 200ms\)$" \
    run --timeout 200ms "$OUT/spin-start.wasm"
# A guest blocked in a WASI sleep is stopped by its deadline too.
start=$(date +%s)
check "timeout stops a sleeping guest" 137 "" "^wharf: error: .*\(--timeout 300ms\)$" \
    run --timeout 300ms "$OUT/guest.wasm" sleep 30
elapsed=$(($(date +%s) - start))
if [ "$elapsed" -le 10 ]; then pass; else fail "sleeping guest took ${elapsed}s"; fi
check "timeout with fuel left" 137 "" "^wharf: error: .*(deadline|timeout|time)" \
    run --fuel 100000000000000 --timeout 200ms "$OUT/spin.wasm"

# ---- stack -----------------------------------------------------------------
check "unbounded recursion" 134 "" "^wharf: error: .*call stack exhausted" \
    run --invoke down "$OUT/recurse.wasm" 0

# ---- memory ----------------------------------------------------------------
check "grow within limit" 0 "1" '' run --max-memory 128KiB --invoke grow "$OUT/grow.wasm" 1
check "grow past limit" 0 "-1" '' run --max-memory 128KiB --invoke grow "$OUT/grow.wasm" 2
check "grow until refused" 0 "$(printf '%s\n' 16 -1)" '' \
    run --max-memory 1MiB --invoke grow_all "$OUT/grow.wasm"
check "grow past 4 GiB" 0 "-1" '' run --invoke grow "$OUT/grow.wasm" 65536
check "guest prints -1" 0 "-1" '' run --max-memory 1MiB "$OUT/guest.wasm" grow 100
check "out of bounds load" 134 "" "^wharf: error: .*out of bounds memory access" \
    run --invoke load "$OUT/oob.wasm" 65533
check "last word in bounds" 0 "0" '' run --invoke load "$OUT/oob.wasm" 65532
check "load at 4 GiB - 1" 134 "" "^wharf: error: .*out of bounds memory access" \
    run --invoke load "$OUT/oob.wasm" 0xffffffff
check "out of bounds store" 134 "" "^wharf: error: .*out of bounds memory access" \
    run --invoke store "$OUT/oob.wasm" 65536

# ---- traps, named from the name section -----------------------------------
check "unreachable" 134 "" "^wharf: error: .*unreachable.*explode|^wharf: error: .*explode.*unreachable" \
    run --invoke boom "$OUT/traps.wasm"
check "divide by zero" 134 "" "^wharf: error: .*integer divide by zero" \
    run --invoke ratio "$OUT/traps.wasm" 1 0
check "trap names the function" 134 "" "compute_ratio" \
    run --invoke ratio "$OUT/traps.wasm" 1 0
check "trap one call deep" 134 "" "compute_ratio" run --invoke outer "$OUT/traps.wasm"
check "trap has an offset" 134 "" "(offset|0x[0-9a-f]+|@)" run --invoke outer "$OUT/traps.wasm"
check "integer overflow" 134 "" "^wharf: error: .*integer overflow" \
    run --invoke ratio "$OUT/traps.wasm" -2147483648 -1
check "bad conversion" 134 "" "^wharf: error: .*invalid conversion to integer" \
    run --invoke to_int "$OUT/traps.wasm" nan
check "no trap" 0 "-3" '' run --invoke ratio "$OUT/traps.wasm" -7 2

finish
