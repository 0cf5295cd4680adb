#!/bin/sh
# tests/helpers/mkimage.sh OUT.tar ROOTFS [NAME [gzip]]: a `docker save` archive (manifest.json
# format) of a two-layer image made from the directory ROOTFS with nothing but tar, gzip and
# sha256sum, for the tests (tests/images.sh, tests/c/abi_test.c):
#   layer 1: ROOTFS, plus /etc/wh-victim and /opq/old;
#   layer 2: /srv/hello ("from the top layer"), a whiteout of /etc/wh-victim, /opq made opaque
#            (so /opq/old is gone) with /opq/new;
#   config:  Env GREETING=hello, WorkingDir /srv, ExposedPorts 8080/tcp, User 0:0 and
#            Cmd ["/bin/sh", "-c", "echo $GREETING; pwd; cat /srv/hello"].
# NAME defaults to localhost/dr-layers:v1; "gzip" compresses the layer files (as some
# tools save them). Nothing outside OUT and a temp dir is written.
set -eu
out=$1 rootfs=$2 name=${3:-localhost/dr-layers:v1} compress=${4:-}
w=$(mktemp -d /tmp/dr-mkimage.XXXXXX)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/extra/etc" "$w/extra/opq" "$w/top/srv" "$w/top/etc" "$w/top/opq" "$w/l1" "$w/l2"
echo victim >"$w/extra/etc/wh-victim"
echo old >"$w/extra/opq/old"
echo "from the top layer" >"$w/top/srv/hello"
: >"$w/top/etc/.wh.wh-victim"
: >"$w/top/opq/.wh..wh..opq"
echo new >"$w/top/opq/new"
tar -C "$rootfs" --numeric-owner -cf "$w/l1/layer.tar" .
tar -C "$w/extra" --numeric-owner -rf "$w/l1/layer.tar" ./etc/wh-victim ./opq
tar -C "$w/top" --numeric-owner -cf "$w/l2/layer.tar" .
d1=$(sha256sum "$w/l1/layer.tar" | cut -d' ' -f1)
d2=$(sha256sum "$w/l2/layer.tar" | cut -d' ' -f1)
if [ "$compress" = gzip ]; then
    for l in l1 l2; do gzip -n "$w/$l/layer.tar" && mv "$w/$l/layer.tar.gz" "$w/$l/layer.tar"; done
fi
case $(uname -m) in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
esac
printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"2026-01-02T03:04:05Z\",\
\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"GREETING=hello\"],\
\"Cmd\":[\"/bin/sh\",\"-c\",\"echo \$GREETING; pwd; cat /srv/hello\"],\"WorkingDir\":\"/srv\",\"User\":\"0:0\",\
\"ExposedPorts\":{\"8080/tcp\":{}}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$d1\",\"sha256:$d2\"]}}" >"$w/config.json"
id=$(sha256sum "$w/config.json" | cut -d' ' -f1)
mv "$w/config.json" "$w/$id.json"
printf '%s' "[{\"Config\":\"$id.json\",\"RepoTags\":[\"$name\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]" \
    >"$w/manifest.json"
tar -C "$w" -cf "$out" manifest.json "$id.json" l1 l2
echo "sha256:$id"
