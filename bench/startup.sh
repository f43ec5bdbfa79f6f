#!/bin/sh
# bench/startup.sh: start-up cost of `wharf run` as a whole process, on the
# C hello world (examples/hello), next to node's WASI runner (node:wasi, run
# the way the shared benchmarks run it: ../shared/bench/anchors/node-wasi.mjs)
# and the same program built natively as the floor (process creation alone).
# Prints a markdown table of the mean wall time per process.
#   bench/startup.sh [RUNS]      RUNS per runner (default 200; node gets a
#                                tenth, at least 10, since each run is slow)
# Uses hyperfine (Debian package) when installed, else a timed shell loop
# (which adds the cost of the loop's own fork, about a millisecond).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
runs=${1:-200}
node_runs=$((runs / 10 < 10 ? 10 : runs / 10))
hello=$root/build/examples/hello.wasm
native=$root/build/bench/hello-native

make -C "$root" --no-print-directory build/wharf "$hello" >&2
mkdir -p "$(dirname "$native")"
cc -O2 -o "$native" "$root/examples/hello/hello.c"

# mean_ms RUNS CMD...: mean wall-clock milliseconds of one run of CMD.
mean_ms() {
    n=$1; shift
    if command -v hyperfine >/dev/null; then
        csv=$(mktemp)
        hyperfine -N --warmup 3 --runs "$n" --export-csv "$csv" "$*" >/dev/null 2>&1
        awk -F, 'NR == 2 { printf "%.2f", $2 * 1000 }' "$csv"
        rm -f "$csv"
        return
    fi
    "$@" >/dev/null 2>&1
    t0=$(date +%s%N)
    i=0
    while [ $i -lt "$n" ]; do "$@" >/dev/null 2>&1; i=$((i + 1)); done
    t1=$(date +%s%N)
    awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.2f", d / n / 1e6 }'
}

echo "| runner (C hello world, whole process) | mean ms per run | runs |"
echo "|---|---|---|"
echo "| native (cc -O2), process floor | $(mean_ms "$runs" "$native") | $runs |"
echo "| \`wharf run hello.wasm\` | $(mean_ms "$runs" "$root/build/wharf" run "$hello") | $runs |"
if command -v node >/dev/null; then
    echo "| \`node node-wasi.mjs hello.wasm\` ($(node --version)) |" \
        "$(mean_ms "$node_runs" node "$shared/bench/anchors/node-wasi.mjs" "$hello") | $node_runs |"
else
    echo "| node: not installed | | |"
fi
