#!/bin/sh
# pdk.sh: a plugin built with a real Extism PDK, run by `wharf call`: the
# AssemblyScript PDK (@extism/as-pdk) and its compiler are installed from
# npm into build/pdk (once; never committed) and tests/plugin/as/plugin.ts
# is compiled during the test. Without npm or the registry the test is
# reported as skipped. Run from the repository root; see harness.inc.
. tests/cli/harness.inc

PDK=build/pdk
PKGS="@extism/as-pdk@1.0.0 assemblyscript@0.28.20"
ASC=$PDK/node_modules/.bin/asc
if [ ! -x "$ASC" ]; then
    mkdir -p "$PDK"
    [ -f "$PDK/package.json" ] || echo '{"private": true}' >"$PDK/package.json"
    if ! command -v npm >/dev/null ||
       ! (cd "$PDK" && timeout 240 npm install --no-audit --no-fund --silent $PKGS) ||
       [ ! -x "$ASC" ]; then
        echo "npm install of $PKGS failed: skipping the PDK test"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
    fi
fi
A=$OUT/as_plugin.wasm
if ! "$ASC" tests/plugin/as/plugin.ts --path "$PDK/node_modules" -O \
        --use abort=tests/plugin/as/plugin/onAbort --outFile "$A"; then
    fail "asc could not compile tests/plugin/as/plugin.ts"
    finish
fi

# As in call.sh: plugin output has no newline of its own.
ok() {
    name=$1 want=$2
    shift 2
    got=$(timeout 30 "$WHARF" call "$@" 2>"$OUT/stderr"; echo "[$?]")
    if [ "$got" = "$want[0]" ] && [ ! -s "$OUT/stderr" ]; then
        pass
    else
        fail "$name: got '$got', want '$want[0]'"
        head -n 3 "$OUT/stderr"
    fi
}

ok "count_vowels" '{"count":5,"seen":5,"thing":"none"}' \
    "$A" count_vowels --input "Hello, AssemblyScript"
ok "config" '{"count":0,"seen":0,"thing":"x y"}' "$A" count_vowels --config "thing=x y"
ok "reverse" 'desserts' "$A" reverse --input stressed
ok "reverse long" "$(printf '%0300d' 0)9" "$A" reverse --input "9$(printf '%0300d' 0)"
check "missing function" 2 '' "no plugin function 'nope'" call "$A" nope
finish
