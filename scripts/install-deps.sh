#!/bin/sh
# install-deps.sh: installs the Debian packages wharf needs to build and test.
# Idempotent: packages already present are skipped, so a second run is quick.
set -eu
PKGS="build-essential pkg-config wabt clang lld wasi-libc libclang-rt-14-dev-wasm32
 jq curl libcjson-dev libcurl4-openssl-dev libh2o-evloop-dev libyaml-dev wrk
 nghttp2-client python3 openssl"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
