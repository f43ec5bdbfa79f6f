#!/bin/sh
# check-layers.sh: dependencies point one way, base <- wasm <- wasi <- host
# <- http <- cli (docs/ARCHITECTURE.md). Fails, naming the line, when a
# file includes a header from a layer above its own.
set -u
cd "$(dirname "$0")/.."
rank() {
    case $1 in
        base) echo 0 ;; wasm) echo 1 ;; wasi) echo 2 ;; host) echo 3 ;;
        http) echo 4 ;; cli) echo 5 ;; *) echo -1 ;;
    esac
}
bad=0
for f in src/*/*.c src/*/*.h; do
    own=$(rank "$(basename "$(dirname "$f")")")
    for dep in $(sed -nE 's@^#include "\.\./([a-z]+)/.*@\1@p' "$f"); do
        if [ "$(rank "$dep")" -gt "$own" ]; then
            echo "$f: includes from src/$dep, a layer above its own"
            bad=1
        fi
    done
done
[ $bad -eq 0 ] && echo "layers ok"
exit $bad
