#!/usr/bin/env bash
# `make install` into a temporary prefix, then build the README's C example against it with
# pkg-config (shared and static) and run it; check the SONAME and the installed files.
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/lib.sh
PREFIX=$(mktemp -d /tmp/install.XXXXXX)
trap 'rm -rf "$PREFIX"' EXIT
make -s install PREFIX="$PREFIX" >/dev/null 2>&1
expect "make install PREFIX=... succeeds" 0 $?
for f in lib/libcontainer_runtime.a lib/libcontainer_runtime.so.0 lib/libcontainer_runtime.so \
         include/container_runtime.h include/network.h include/docker.hpp lib/pkgconfig/container-runtime.pc bin/docker-run bin/container-runtime; do
    [ -e "$PREFIX/$f" ] && pass "installed $f" || fail "installed $f"
done
expect_match "SONAME is libcontainer_runtime.so.0" "SONAME.*libcontainer_runtime\.so\.0" \
    "$(readelf -d "$PREFIX/lib/libcontainer_runtime.so" | grep SONAME)"
stage=$(mktemp -d /tmp/stage.XXXXXX)
make -s install PREFIX=/usr DESTDIR="$stage" >/dev/null 2>&1 && [ -e "$stage/usr/lib/pkgconfig/container-runtime.pc" ]
expect "make install DESTDIR=... stages under DESTDIR" 0 $?
rm -rf "$stage"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
flags=$(pkg-config --cflags --libs container-runtime)
expect "pkg-config knows container-runtime" 0 $?
cc -std=c11 -Wall -Wextra -Werror tests/c/example.c $flags -o "$PREFIX/example"
expect "example.c builds with pkg-config (shared)" 0 $?
# Static: the archive itself, plus what it needs (Libs.private).
cc -std=c11 -Wall -Wextra -Werror tests/c/example.c $(pkg-config --cflags container-runtime) \
    "$PREFIX/lib/libcontainer_runtime.a" $(pkg-config --static --libs-only-l container-runtime | sed 's/-lcontainer_runtime//') \
    -o "$PREFIX/example-static"
expect "example.c builds against the static library" 0 $?
if [ "$(id -u)" -eq 0 ]; then
    expect "the shared-library example runs a container" "demo 1" \
        "$(LD_LIBRARY_PATH=$PREFIX/lib "$PREFIX/example" "$PWD/rootfs" | tr '\n' ' ' | sed 's/ $//')"
    expect "the static example runs a container" "demo 1" "$("$PREFIX/example-static" "$PWD/rootfs" | tr '\n' ' ' | sed 's/ $//')"
else
    require_root "running the installed example"
fi
summary
