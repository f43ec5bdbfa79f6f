#!/bin/sh
# bench/run.sh: runs the shared guest benchmarks (../shared/bench) with
# wharf plugged in as the engine under test, side by side with every other
# engine the shared runner finds, in one run. Extra environment variables
# (RUNS, BENCHES, ENGINES, DIV_wharf, ...) pass through to the runner.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$root/../shared}
make -C "$root" --no-print-directory build/wharf
export ENGINE_UNDER_TEST="$root/build/wharf run"
export ENGINE_UNDER_TEST_NAME=wharf
export OUT_DIR="$root/bench/results"
exec "$shared/bench/run.sh" "$@"
