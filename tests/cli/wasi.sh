#!/bin/sh
# wasi.sh: WASI preview1 end to end. Builds the guest programs of tests/wasi
# with clang --target=wasm32-wasi into $BUILD/wasi-tests, runs them under
# `$WHARF run`, and where native semantics apply builds the same program
# with cc and compares the two outputs. Guests that check themselves print
# "N passed, M failed"; those counts are added in. Ends with the line
# "N passed, M failed[, K skipped]" (tests/run.sh reads it).
#
# Environment: WHARF (the CLI, default build/wharf), BUILD (default build).
WHARF=${WHARF:-build/wharf}
BUILD=${BUILD:-build}
SRC=tests/wasi
OUT=$BUILD/wasi-tests
pass=0 fail=0 skip=0

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wharf-wasi.XXXXXX") || exit 1
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
# check DESC COMMAND...: one pass or fail on the command's status.
check() { d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }
# same DESC FILE1 FILE2: the files must be identical.
same()  { if cmp -s "$2" "$3"; then ok; else bad "$1"; diff "$2" "$3" | head -n 10; fi; }

# summary DESC FILE: adds a guest's "N passed, M failed" line.
summary() {
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
    if [ -z "$line" ]; then
        bad "$1: no summary"; tail -n 5 "$2"; return
    fi
    p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
    pass=$((pass + p)); fail=$((fail + f))
    [ "$f" -eq 0 ] || { echo "FAIL $1: $line"; grep FAIL "$2" | head -n 20; }
}

# wasm NAME / native NAME: builds tests/wasi/NAME.c into $OUT when stale.
wasm() {
    [ -f "$OUT/$1.wasm" ] && [ ! "$SRC/$1.c" -nt "$OUT/$1.wasm" ] ||
        clang --target=wasm32-wasi -O2 -Wno-unused-result -o "$OUT/$1.wasm" "$SRC/$1.c"
}
native() {
    [ -f "$OUT/$1.native" ] && [ ! "$SRC/$1.c" -nt "$OUT/$1.native" ] ||
        ${CC:-cc} -O2 -Wno-unused-result -o "$OUT/$1.native" "$SRC/$1.c"
}

if ! printf 'int main(void){return 0;}' > "$TMP/t.c" ||
   ! clang --target=wasm32-wasi -o "$TMP/t.wasm" "$TMP/t.c" 2>/dev/null; then
    echo "clang --target=wasm32-wasi unavailable: WASI tests skipped"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
for t in raw escape fsops dirlist io clock sock; do
    wasm $t || bad "build $t.wasm"
done
for t in fsops dirlist io sockhelper; do
    native $t || bad "build $t.native"
done
W=$WHARF

# ---- Every function, raw ------------------------------------------------------
mkdir "$TMP/scratch"
$W run --dir "$TMP/scratch::/scratch" --env FOO=bar --env EMPTY= \
    "$OUT/raw.wasm" /scratch a bb "c c" </dev/null >"$TMP/raw.out" 2>&1
summary raw "$TMP/raw.out"

# ---- Sandbox escapes ----------------------------------------------------------
O=$TMP/outside B=$TMP/outside/box
mkdir -p "$B/sub"
echo SECRET > "$O/secret.txt"
printf inside > "$B/inside.txt"
ln -s .. "$B/sub/up";                ln -s ../secret.txt "$B/esc"
ln -s .. "$B/escdir";                ln -s /etc/passwd "$B/abs"
ln -s chain2 "$B/chain1";            ln -s chain3 "$B/chain2"
ln -s ../secret.txt "$B/chain3";     ln -s okchain2 "$B/okchain1"
ln -s inside.txt "$B/okchain2";      ln -s loop2 "$B/loop1"
ln -s loop1 "$B/loop2";              ln -s self "$B/self"
ln -s nowhere "$B/dangling";         ln -s ../created_outside "$B/dangle_out"
ln -s ../../secret.txt "$B/sub/deep"
touch -d '2001-01-01' "$O/secret.txt"
before=$(ls -la "$O" | md5sum)
# Extra host fds (7, 8) must not show up in the guest.
( exec 7<"$SRC/raw.c" 8>"$TMP/fd8"
  $W run --dir "$B::/box" "$OUT/escape.wasm" /box </dev/null >"$TMP/esc.out" 2>&1 )
summary escape "$TMP/esc.out"
check "escape: secret unchanged" [ "$(cat "$O/secret.txt")" = SECRET ]
check "escape: nothing created or moved outside" \
    [ "$(ls -la "$O" | md5sum)" = "$before" ]
check "escape: secret mtime unchanged" \
    [ "$(stat -c %Y "$O/secret.txt")" = "$(date -d 2001-01-01 +%s)" ]
check "escape: inside untouched" [ "$(cat "$B/inside.txt")" = inside ]

# ---- Native comparisons -------------------------------------------------------
# compare NAME ARGS...: runs NAME natively in a fresh directory and under
# wharf with another fresh directory preopened as ".", and compares their
# output and exit status.
compare() {
    n=$1 d=$TMP/$1; shift
    mkdir -p "$d/n" "$d/w"
    ( cd "$d/n" && "$OUT/$n.native" "$@" ) >"$d/native.out" 2>&1
    echo "exit $?" >>"$d/native.out"
    $W run --dir "$d/w::." "$OUT/$n.wasm" "$@" >"$d/wasm.out" 2>&1 </dev/null
    echo "exit $?" >>"$d/wasm.out"
    same "$n: wasm output differs from native" "$d/native.out" "$d/wasm.out"
}
compare fsops
compare dirlist 600
check "dirlist: all 600 entries" grep -q "entries 602 dots 2 missing 0 duplicates 0 rmdir 0" \
    "$TMP/dirlist/wasm.out"

# ---- stdio --------------------------------------------------------------------
head -c 3000000 /dev/urandom > "$TMP/rnd"
$W run "$OUT/io.wasm" cat < "$TMP/rnd" > "$TMP/cat1"
same "stdin from a file" "$TMP/rnd" "$TMP/cat1"
cat "$TMP/rnd" | $W run "$OUT/io.wasm" cat | cat > "$TMP/cat2"
same "stdin and stdout through pipes" "$TMP/rnd" "$TMP/cat2"
$W run "$OUT/io.wasm" big 16 | md5sum > "$TMP/big.w"
"$OUT/io.native" big 16 | md5sum > "$TMP/big.n"
same "one 16 MiB write" "$TMP/big.n" "$TMP/big.w"
$W run "$OUT/io.wasm" big 8 > "$TMP/big8"
check "8 MiB write to a file" [ "$(stat -c %s "$TMP/big8")" = 8388608 ]
for input in "$TMP/rnd" /dev/null; do
    $W run "$OUT/io.wasm" stdio < "$input" 2>"$TMP/st.w" | cat
    "$OUT/io.native" stdio < "$input" 2>"$TMP/st.n" | cat
    same "stdio kinds with stdin $input" "$TMP/st.n" "$TMP/st.w"
done
echo x | $W run "$OUT/io.wasm" stdio 2>"$TMP/st.w" >"$TMP/o1"
echo x | "$OUT/io.native" stdio 2>"$TMP/st.n" >"$TMP/o2"
same "stdio kinds with stdin a pipe" "$TMP/st.n" "$TMP/st.w"
$W run --env WHARF_X=1 --env WHARF_Y= "$OUT/io.wasm" args a "b c" "" >"$TMP/a.w"
env -i WHARF_X=1 WHARF_Y= "$OUT/io.native" args a "b c" "" >"$TMP/a.n"
same "arguments and environment" "$TMP/a.n" "$TMP/a.w"
for code in 0 1 7 125; do
    $W run "$OUT/io.wasm" exit $code; rc=$?
    check "exit status $code (got $rc)" [ $rc -eq $code ]
done
$W run "$OUT/io.wasm" exit 126 2>"$TMP/exit.err"; rc=$?
check "exit status 126 is refused like wasmtime (got $rc)" [ $rc -ne 0 ] && [ $rc -ne 126 ]
check "exit 126 explains itself" grep -q "invalid exit status" "$TMP/exit.err"

# Every host fd wharf opened is close-on-exec while the guest holds files
# open (fds this shell passed down to wharf are not its own).
inherited=" $(ls /proc/$$/fd | tr '\n' ' ') "
mkdir "$TMP/hold" && mkfifo "$TMP/fifo"
$W run --dir "$TMP/hold::." "$OUT/io.wasm" hold <"$TMP/fifo" & pid=$!
exec 9>"$TMP/fifo"
sleep 0.5
leaks=0 fds=0
for f in /proc/$pid/fdinfo/*; do
    n=${f##*/}
    case $inherited in *" $n "*) continue ;; esac
    fds=$((fds + 1))
    fl=$(awk '/^flags/ { print $2 }' "$f")
    [ $((fl & 02000000)) -ne 0 ] || { leaks=$((leaks + 1)); ls -l /proc/$pid/fd/$n; }
done
exec 9>&-
wait $pid
check "host fds are close-on-exec ($leaks of $fds are not)" [ $leaks -eq 0 ] && [ $fds -ge 3 ]

# ---- Clocks and sleeping (stdin stays silent for a second, then speaks) -------
( sleep 1; echo hi ) | $W run "$OUT/clock.wasm" "$(date +%s)" >"$TMP/clock.out" 2>&1
summary clock "$TMP/clock.out"

# ---- Sockets handed in as stdin -----------------------------------------------
for mode in pair accept; do
    timeout 20 "$OUT/sockhelper.native" $mode "$W" "$OUT/sock.wasm" >"$TMP/sock.out" 2>&1
    rc=$?
    summary "sock $mode" "$TMP/sock.out"
    check "sock $mode: the peer saw the right bytes" [ $rc -eq 0 ]
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
