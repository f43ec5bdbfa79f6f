#!/bin/sh
# run.sh BUILD_DIR...: runs every test program of each build (unit tests,
# the spec suite, CLI tests) each in its own process with a timeout, and sums
# their closing "N passed, M failed[, K skipped]" lines into one.
# Exit status: 0 when nothing failed.
[ $# -ge 1 ] || { echo "usage: tests/run.sh BUILD_DIR..." >&2; exit 2; }
SHARED=${SHARED:-../shared}
export SHARED
total_p=0; total_f=0; total_s=0; broken=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

# run NAME TIMEOUT COMMAND...: runs one test program and adds its counts.
run() {
    name=$1; secs=$2; shift 2
    timeout "$secs" "$@" >"$log" 2>&1; rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        broken=$((broken + 1)); total_f=$((total_f + 1))
        echo "BROKEN $name (exit $rc, no summary line)"; tail -n 20 "$log"
        return
    fi
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + ${s:-0}))
    if [ "$f" -ne 0 ] || [ "$rc" -ne 0 ]; then
        [ "$f" -eq 0 ] && total_f=$((total_f + 1))
        echo "FAIL   $name: $line (exit $rc)"; grep -E 'FAIL|error' "$log" | head -n 30
    else
        echo "ok     $name: $line"
    fi
}

for B in "$@"; do
export WHARF="$B/wharf" BUILD="$B"
echo "== $B"
for t in "$B"/unit/*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" 300 "$t"
done
for suite in core; do
    run "spec/$suite" 1200 "$B/spec-runner" build/spec "$suite"
done
for t in tests/cli/*.sh; do
    [ -f "$t" ] && run "cli/$(basename "$t" .sh)" 300 sh "$t"
done
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
