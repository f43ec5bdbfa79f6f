#!/bin/sh
# tests/realworld/run.sh: real C programs under `wharf run`, as a new user
# would run them. Fetches Debian's source packages of lua5.4 (a scripting
# language), sqlite3 (a database shell), zlib (minigzip) and bzip2
# (compression tools), builds each for wasm32-wasi with clang and natively
# with cc, runs both on the same inputs and compares output, exit status and
# the files they write. Closes with "N passed, M failed".
#
# Needs root and Debian's package archive: it adds a deb-src entry derived
# from the machine's own apt sources. Third-party source lives only in
# build/realworld (never in the repository); our side is the small shims in
# this directory (setjmp/longjmp on asyncify, missing POSIX calls).
#   WHARF=path/to/wharf tests/realworld/run.sh     (default build/wharf)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/tests/realworld
out=$root/build/realworld
WHARF=${WHARF:-$root/build/wharf}
case $WHARF in /*) ;; *) WHARF=$root/$WHARF ;; esac
src=$out/src bin=$out/bin logs=$out/log
mkdir -p "$src" "$bin" "$logs"
pass=0 fail=0

WCC="clang --target=wasm32-wasi -O2 -w"
NCC="cc -O2 -w"
WASM_OPT=$out/tools/usr/bin/wasm-opt
SRC_PKGS="lua5.4 sqlite3 zlib bzip2"

die() { echo "realworld: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

# --- fetching -------------------------------------------------------------

# Source entries for the archive the machine already installs from; no
# host is named here.
add_deb_src() {
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
            > /etc/apt/sources.list.d/wharf-src.sources
    else
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
            > /etc/apt/sources.list.d/wharf-src.list
    fi
    apt-get update -qq
}

# Source packages and binaryen (wasm-opt, for asyncify). binaryen is
# unpacked here rather than installed: an installed wasm-opt would make
# clang post-process every .wasm the project links.
fetch() {
    [ -f "$src/.fetched" ] && return 0
    command -v tclsh >/dev/null || apt-get install -y -qq tcl >/dev/null ||
        die "cannot install tcl (needed to build sqlite3.c)"
    (cd "$src" && apt-get source --download-only $SRC_PKGS) >"$logs/fetch.log" 2>&1 ||
        { add_deb_src && (cd "$src" && apt-get source --download-only $SRC_PKGS) \
            >"$logs/fetch.log" 2>&1; } || { cat "$logs/fetch.log"; die "apt-get source failed"; }
    (cd "$src" && apt-get download binaryen) >>"$logs/fetch.log" 2>&1 &&
        dpkg -x "$src"/binaryen_*.deb "$out/tools" || die "cannot get binaryen"
    touch "$src/.fetched"
}

# unpack PKG DIR: extracts the upstream tarball of PKG as $src/DIR.
unpack() {
    [ -d "$src/$2" ] && return 0
    tarball=$(ls "$src/$1"_*.orig.tar.* | grep -v -e '\.asc$' -e 'orig-' | head -n 1)
    tar -xf "$tarball" -C "$src" || die "cannot unpack $tarball"
    [ -d "$src/$2" ] || die "$tarball has no $2"
}

# --- building -------------------------------------------------------------

# objs CC OUTDIR FLAGS FILES...: compiles each file to OUTDIR/NAME.o.
objs() {
    cc=$1 dir=$2 flags=$3; shift 3
    mkdir -p "$dir"
    for f in "$@"; do
        $cc $flags -c "$f" -o "$dir/$(basename "$f" .c).o" || return 1
    done
}

# Lua's errors and coroutines need setjmp/longjmp: lua.c's main becomes
# sjlj_main under sjlj.c's driver, then asyncify instruments the module.
# Linking without -O keeps clang from running wasm-opt before asyncify.
build_lua() {
    d=$src/lua-5.4.4/src o=$out/obj/lua
    files=$(ls "$d"/*.c | grep -v -e /luac.c -e /onelua.c -e /lua.c)
    objs "$NCC" "$o/native" "-DLUA_USE_POSIX" $files "$d/lua.c" &&
        cc -o "$bin/lua-native" "$o"/native/*.o -lm || return 1
    wflags="-I$here/include -include $here/lua_wasi.h -D_WASI_EMULATED_SIGNAL
            -D_WASI_EMULATED_PROCESS_CLOCKS"
    objs "$WCC" "$o/wasm" "$wflags" $files "$here/sjlj.c" "$here/stubs.c" &&
        objs "$WCC" "$o/wasm" "$wflags -DLUA_WASI_MAIN -Dmain=sjlj_main" "$d/lua.c" &&
        clang --target=wasm32-wasi -o "$o/lua-plain.wasm" "$o"/wasm/*.o \
            -lwasi-emulated-signal -lwasi-emulated-process-clocks &&
        "$WASM_OPT" --asyncify --pass-arg=asyncify-imports@env.none -O2 \
            "$o/lua-plain.wasm" -o "$bin/lua.wasm"
}

SQLITE_FLAGS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL
    -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS
    -DSQLITE_NOHAVE_SYSTEM -DSQLITE_OMIT_POPEN"

# The shell and library come from the amalgamation, generated (with tclsh)
# from the source package. No WAL: it needs shared memory.
build_sqlite3() {
    d=$src/sqlite3-3.40.1/bld o=$out/obj/sqlite
    mkdir -p "$d" && (cd "$d" && { [ -f Makefile ] || ../configure --disable-tcl; } &&
        make sqlite3.c shell.c) >"$logs/sqlite-amalgamation.log" 2>&1 || return 1
    objs "$NCC" "$o/native" "$SQLITE_FLAGS" "$d/sqlite3.c" "$d/shell.c" &&
        cc -o "$bin/sqlite3-native" "$o"/native/*.o -lm || return 1
    wflags="$SQLITE_FLAGS -I$here/include -include $here/posix_wasi.h
            -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_SIGNAL
            -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN"
    objs "$WCC" "$o/wasm" "$wflags" "$d/sqlite3.c" "$d/shell.c" "$here/stubs.c" &&
        objs "$WCC" "$o/speed" "$wflags -I$d" "$d/../test/speedtest1.c" || return 1
    wlibs="-lwasi-emulated-getpid -lwasi-emulated-signal
           -lwasi-emulated-process-clocks -lwasi-emulated-mman"
    clang --target=wasm32-wasi -o "$bin/sqlite3.wasm" "$o"/wasm/*.o $wlibs &&
        clang --target=wasm32-wasi -o "$bin/speedtest1.wasm" "$o/speed/speedtest1.o" \
            "$o/wasm/sqlite3.o" "$o/wasm/stubs.o" $wlibs &&
        $NCC $SQLITE_FLAGS -I"$d" -o "$bin/speedtest1-native" "$d/../test/speedtest1.c" \
            "$o/native/sqlite3.o" -lm
}

build_minigzip() {
    d=$src/zlib-1.2.13.dfsg o=$out/obj/zlib
    files=$(for f in adler32 crc32 deflate infback inffast inflate inftrees \
                trees zutil compress uncompr gzclose gzlib gzread gzwrite; do
                echo "$d/$f.c"; done)
    flags="-I$d -DHAVE_UNISTD_H -DHAVE_STDARG_H"
    objs "$NCC" "$o/native" "$flags" $files "$d/test/minigzip.c" &&
        cc -o "$bin/minigzip-native" "$o"/native/*.o || return 1
    objs "$WCC" "$o/wasm" "$flags" $files "$d/test/minigzip.c" &&
        clang --target=wasm32-wasi -o "$bin/minigzip.wasm" "$o"/wasm/*.o
}

build_bzip2() {
    d=$src/bzip2-1.0.8 o=$out/obj/bzip2
    files=$(for f in blocksort huffman crctable randtable compress decompress \
                bzlib bzip2; do echo "$d/$f.c"; done)
    objs "$NCC" "$o/native" "" $files && cc -o "$bin/bzip2-native" "$o"/native/*.o || return 1
    wflags="-include $here/posix_wasi.h -D_WASI_EMULATED_SIGNAL
            -D_WASI_EMULATED_PROCESS_CLOCKS"
    objs "$WCC" "$o/wasm" "$wflags" $files &&
        clang --target=wasm32-wasi -o "$bin/bzip2.wasm" "$o"/wasm/*.o \
            -lwasi-emulated-signal -lwasi-emulated-process-clocks
}

# build NAME SHIM...: runs build_NAME unless NAME.wasm is newer than our
# SHIM files (in this directory) it is built with; the log is in
# build/realworld/log.
build() {
    name=$1; shift
    if [ -f "$bin/$name.wasm" ] && [ -f "$bin/$name-native" ]; then
        stale=
        for f in "$@"; do [ "$here/$f" -nt "$bin/$name.wasm" ] && stale=1; done
        [ -z "$stale" ] && return 0
    fi
    echo "building $name (log: build/realworld/log/$name.log)"
    "build_$name" >"$logs/$name.log" 2>&1 && return 0
    tail -n 30 "$logs/$name.log"
    rm -f "$bin/$name.wasm"
    return 1
}

# --- checking -------------------------------------------------------------

ok()  { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "FAIL   $1"; }

# same NAME A B: passes when files A and B are identical, else shows a diff.
same() {
    if cmp -s "$2" "$3"; then ok "$1"; else bad "$1"; diff "$2" "$3" | head -n 20; fi
}

# side SIDE DIR ARGS...: runs $PROG with ARGS in DIR/SIDE, natively or
# under wharf (that directory preopened as "."), stdin from $IN; leaves
# DIR/SIDE.out, .err and .rc.
side() {
    s=$1 d=$2 w=$2/$1; shift 2
    if [ "$s" = native ]; then
        set -- "$bin/$PROG-native" "$@"
    else
        set -- "$WHARF" run --dir . --env HOME=. --env WHARF_TEST=yes "$bin/$PROG.wasm" "$@"
    fi
    (cd "$w" && HOME=. WHARF_TEST=yes timeout 300 "$@" <"${IN:-/dev/null}" \
        >"../$s.out" 2>"../$s.raw"; echo $? >"../$s.rc")
    # Messages name the program by argv[0]: the native binary or the .wasm.
    sed -e "s#$bin/$PROG-native#$PROG#g" -e "s#$bin/$PROG.wasm#$PROG#g" \
        -e "s#$PROG-native#$PROG#g" -e "s#$PROG.wasm#$PROG#g" "$d/$s.raw" >"$d/$s.err"
}

# both NAME DIR ARGS...: runs $PROG both ways in fresh directories (kept
# as they are with KEEP=1) holding copies of $FILES and an empty directory
# $MKDIR if set, and compares stdout, stderr and exit status.
both() {
    name=$1 dir=$2; shift 2
    for s in native wasm; do
        [ "${KEEP:-0}" = 1 ] || { rm -rf "${dir:?}/$s"; mkdir -p "$dir/$s"; }
        [ -z "${FILES:-}" ] || cp -p $FILES "$dir/$s/"
        [ -z "${MKDIR:-}" ] || mkdir -p "$dir/$s/$MKDIR"
        side $s "$dir" "$@"
    done
    if cmp -s "$dir/native.out" "$dir/wasm.out" && cmp -s "$dir/native.err" "$dir/wasm.err" &&
        cmp -s "$dir/native.rc" "$dir/wasm.rc"; then
        ok "$name"
    else
        bad "$name (exit $(cat "$dir/native.rc") native, $(cat "$dir/wasm.rc") wharf)"
        diff "$dir/native.out" "$dir/wasm.out" | head -n 20
        diff "$dir/native.err" "$dir/wasm.err" | head -n 10
    fi
}

check_lua() {
    PROG=lua r=$out/run/lua
    for f in "$here"/lua/*.lua; do
        n=$(basename "$f" .lua)
        [ "$n" = mod ] && continue
        IN=/dev/null
        [ -f "$here/lua/$n.in" ] && IN=$here/lua/$n.in
        FILES="$here/lua/mod.lua $f" MKDIR=tmp both "lua $n.lua" "$r/$n" "$n.lua"
    done
    FILES= IN=$here/lua/piped.txt both "lua - (script on stdin)" "$r/stdin" -
    IN=$here/lua/piped.txt both "lua < script (stdin is no terminal)" "$r/redir"
    IN=/dev/null both "lua -e, then an error: exit 1" "$r/e" -e 'print(_VERSION)' -e 'error("x")'
}

check_sqlite() {
    PROG=sqlite3 r=$out/run/sqlite
    FILES=$here/sql/cities.csv IN=$here/sql/create.sql both "sqlite3 create.sql" "$r/db" t.db
    FILES= KEEP=1 IN=$here/sql/query.sql both "sqlite3 query.sql (reopens the file)" "$r/db" t.db
    # Each side's database file must be readable by the other side.
    mkdir -p "$r/x"
    cp "$r/db/wasm/t.db" "$r/x/wasm-made.db"; cp "$r/db/native/t.db" "$r/x/native-made.db"
    q="PRAGMA integrity_check; SELECT count(*), sum(salary) FROM emp; SELECT * FROM city;"
    (cd "$r/x" && "$bin/sqlite3-native" native-made.db "$q" >ref 2>&1
        "$bin/sqlite3-native" wasm-made.db "$q" >a 2>&1
        "$WHARF" run --dir . --env HOME=. "$bin/sqlite3.wasm" native-made.db "$q" >b 2>&1)
    same "sqlite3: native reads the file wharf wrote" "$r/x/ref" "$r/x/a"
    same "sqlite3: wharf reads the file native wrote" "$r/x/ref" "$r/x/b"
    IN=$here/sql/memory.sql both "sqlite3 in memory, commands on stdin" "$r/mem"
    IN=$here/sql/files.sql both "sqlite3 writefile, fsdir, readfile" "$r/files" :memory:
    # speedtest1, SQLite's own benchmark, prints timings and then a hash
    # of every result: the hashes must match.
    PROG=speedtest1 d=$r/speed
    mkdir -p "$d"
    for s in native wasm; do
        rm -rf "${d:?}/$s"; mkdir -p "$d/$s"
        side $s "$d" --size 5 --verify t.db
        echo "exit $(cat "$d/$s.rc"), $(grep '^Verification Hash' "$d/$s.out")"
    done >"$d/hashes"
    if [ "$(sort -u "$d/hashes" | wc -l)" = 1 ] && grep -q '^exit 0, Verif' "$d/hashes"; then
        ok "speedtest1 --verify: same result hash"
    else
        bad "speedtest1 --verify: same result hash"; cat "$d/hashes"
    fi
}

# A test input: text and binary, big enough to span several blocks.
make_input() {
    input=$out/run/input.bin
    mkdir -p "$out/run"
    { head -c 1500000 "$src/sqlite3-3.40.1/bld/sqlite3.c"; head -c 500000 "$bin/lua-native"; } \
        >"$input"
}

# check_compress PROG EXT: the same compressed bytes from both builds, each
# decompressing the other's, and compressing a file in place and back.
check_compress() {
    PROG=$1 r=$out/run/$1 z=$2
    make_input
    IN=$input both "$1 -9: stdin to stdout, same bytes" "$r/pipe" -9
    cp "$r/pipe/native.out" "$r/native.$z"
    IN=$r/native.$z both "$1 -d: stdin to stdout" "$r/unpipe" -d
    same "$1 -d restores the input" "$input" "$r/unpipe/wasm.out"
    touch -d @1000000000 "$input"
    FILES=$input both "$1 FILE: compress in place" "$r/file" input.bin
    (cd "$r/file/native" && ls) >"$r/file/native.ls"
    (cd "$r/file/wasm" && ls) >"$r/file/wasm.ls"
    same "$1 FILE: leaves only input.bin.$z" "$r/file/native.ls" "$r/file/wasm.ls"
    same "$1 FILE: same bytes" "$r/file/native/input.bin.$z" "$r/file/wasm/input.bin.$z"
    KEEP=1 both "$1 -d FILE: decompress in place" "$r/file" -d "input.bin.$z"
    same "$1 -d FILE: restores the input" "$input" "$r/file/wasm/input.bin"
}

# bzip2 also carries the modification time over (utime) and tests files.
check_bzip2_extra() {
    r=$out/run/bzip2/file
    if [ "$(stat -c %Y "$r/native/input.bin") $(stat -c %Y "$r/wasm/input.bin")" = \
         "1000000000 1000000000" ]; then
        ok "bzip2 keeps the modification time"
    else
        bad "bzip2 keeps the modification time"
    fi
    PROG=bzip2 KEEP=1 both "bzip2 -k FILE: keeps FILE" "$r" -k input.bin
    printf 'BZh9 not really' >"$r/native/bad.bz2"; cp "$r/native/bad.bz2" "$r/wasm/"
    PROG=bzip2 KEEP=1 both "bzip2 -t: a good and a corrupt file" "$r" -t input.bin.bz2 bad.bz2
}

fetch
unpack lua5.4 lua-5.4.4
unpack sqlite3 sqlite3-3.40.1
unpack zlib zlib-1.2.13.dfsg
unpack bzip2 bzip2-1.0.8
[ -x "$WHARF" ] || die "no $WHARF (make build/wharf)"
if build lua sjlj.c stubs.c lua_wasi.h include/setjmp.h; then check_lua; else bad "build lua"; fi
if build sqlite3 stubs.c posix_wasi.h include/pwd.h; then check_sqlite; else bad "build sqlite3"; fi
if build minigzip; then check_compress minigzip gz; else bad "build minigzip"; fi
if build bzip2 posix_wasi.h; then check_compress bzip2 bz2; check_bzip2_extra; else bad "build bzip2"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
