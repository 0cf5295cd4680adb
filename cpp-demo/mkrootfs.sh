#!/usr/bin/env bash
# mkrootfs.sh DEST: build the default root filesystem that `sudo ./docker-run`
# starts a shell in (run by `make rootfs`, which `make container` depends on).
#
# Source of the binaries:
#   - the host's busybox (static, or dynamic plus its shared libraries), with
#     one symlink per applet as listed by `busybox --list-full`;
#   - otherwise host binaries (coreutils, procps, iproute2, ...) plus the
#     shared libraries and dynamic loader that `ldd` reports, copied to the
#     same paths.
#   BUSYBOX=/path/to/busybox picks the busybox binary; BUSYBOX= (set but
#   empty) forces the host-binaries path.
#
# Layout: usr/bin, usr/sbin, usr/lib, usr/lib64 are directories; bin, sbin,
# lib, lib64 are relative symlinks to them (merged /usr), so that /bin/sh,
# /usr/bin/ls and /lib64/ld-linux-x86-64.so.2 all resolve, inside the rootfs
# and from the host. An existing DEST with real bin/ sbin/ ... directories
# is kept as it is.
#
# Idempotent: a rerun checks every entry (cmp for copied files) and changes
# only what is missing or stale. The flavor built (busybox or host binaries)
# is recorded in DEST/.mkrootfs-flavor; when a rerun would build the other
# flavor (busybox appeared or disappeared), it empties DEST and rebuilds it
# from scratch, so a tree never mixes the two. Files are written to a temporary name and
# renamed into place, so an interrupted run leaves no half-written file and a
# rerun completes it. Existing files and symlinks are never clobbered (copied
# files are refreshed only when they are regular files) and nothing is ever
# written through a symlink that leads out of DEST. Works without root: no
# mknod, no chown; the files belong to whoever runs it.
set -euo pipefail

prog=mkrootfs
died=0
die()  { printf '%s: error: %s\n' "$prog" "$*" >&2; died=1; exit 1; }
warn() { printf '%s: warning: %s\n' "$prog" "$*" >&2; }
info() { printf '%s: %s\n' "$prog" "$*" >&2; }

if [[ $# -ne 1 || -z $1 || $1 == -* ]]; then
    echo "usage: $0 DEST" >&2
    echo "  builds a root filesystem in DEST (BUSYBOX=path selects busybox, BUSYBOX= forces host binaries)" >&2
    exit 2
fi

export LC_ALL=C
unset CDPATH
umask 022

DEST=$1
while [[ $DEST == */ && $DEST != / ]]; do DEST=${DEST%/}; done

# Where host commands are looked up (not $PATH: it lacks the sbin
# directories for non-root users, and /usr/local is not the host's system).
SEARCH_DIRS=(/bin /usr/bin /sbin /usr/sbin)

nchanged=0
src_desc=
changed() {
    if ((nchanged == 0)); then
        info "building $DEST from $src_desc"
    fi
    nchanged=$((nchanged + 1))
}

# Temporary files: one at a time, removed if we are interrupted.
cur_tmp=
cleanup() {
    local rc=$?
    if [[ -n $cur_tmp ]]; then rm -f -- "$cur_tmp"; fi
    if ((rc != 0 && died == 0)); then
        printf '%s: error: building %s failed\n' "$prog" "$DEST" >&2
    fi
}
trap cleanup EXIT
trap 'died=1; info interrupted; exit 130' INT
trap 'died=1; info terminated; exit 143' TERM

# check_parent REL: make sure the directory that will hold $ROOT/REL stays
# inside the rootfs (no absolute or escaping symlink on the way).
declare -A okdir=()
check_parent() {
    local dir=${1%/*} r
    [[ $dir != "$1" ]] || return 0          # top-level entry
    [[ -z ${okdir[$dir]-} ]] || return 0
    r=$(realpath -m -- "$ROOT/$dir")
    [[ $r == "$ROOT" || $r == "$ROOT"/* ]] ||
        die "$DEST/$dir resolves to $r, outside $DEST; refusing to write there"
    okdir[$dir]=1
}

# find_cmd NAME: set $found to the host path of command NAME, or return 1.
found=
find_cmd() {
    local d
    for d in "${SEARCH_DIRS[@]}"; do
        if [[ -f $d/$1 && -x $d/$1 ]]; then
            found=$d/$1
            return 0
        fi
    done
    return 1
}

# install_file SRC REL MODE: copy SRC (following symlinks) to $ROOT/REL
# unless an identical file is already there. A symlink at REL is left alone.
install_file() {
    local src=$1 rel=$2 mode=$3 dst=$ROOT/$2
    check_parent "$rel"
    if [[ -L $dst ]]; then
        return 0
    fi
    if [[ -e $dst && ! -f $dst ]]; then
        die "$DEST/$rel exists and is not a regular file"
    fi
    if [[ -f $dst ]] && cmp -s -- "$src" "$dst"; then
        return 0
    fi
    changed
    mkdir -p -- "${dst%/*}"
    cur_tmp=${dst%/*}/.mkrootfs-tmp.${dst##*/}.$$
    rm -f -- "$cur_tmp"
    cp -- "$src" "$cur_tmp"
    chmod "$mode" -- "$cur_tmp"
    mv -f -- "$cur_tmp" "$dst"
    cur_tmp=
}

# write_file REL MODE CONTENT: create $ROOT/REL with CONTENT if it does not
# exist (existing files are the user's and are kept).
write_file() {
    local rel=$1 mode=$2 content=$3 dst=$ROOT/$1
    check_parent "$rel"
    if [[ -e $dst || -L $dst ]]; then
        return 0
    fi
    changed
    cur_tmp=${dst%/*}/.mkrootfs-tmp.${dst##*/}.$$
    printf '%s' "$content" >"$cur_tmp"
    chmod "$mode" -- "$cur_tmp"
    mv -f -- "$cur_tmp" "$dst"
    cur_tmp=
}

# add_symlink REL TARGET: create the symlink unless something is there.
add_symlink() {
    local rel=$1 target=$2 dst=$ROOT/$1
    check_parent "$rel"
    if [[ -e $dst || -L $dst ]]; then
        return 0
    fi
    changed
    mkdir -p -- "${dst%/*}"
    ln -s -- "$target" "$dst"
}

# is_dynamic FILE: true when FILE is a dynamically linked ELF executable.
is_dynamic() {
    local out
    if command -v ldd >/dev/null 2>&1; then
        out=$(ldd -- "$1" 2>&1) || true
        case $out in
            *"not a dynamic executable"* | *"statically linked"*) return 1 ;;
        esac
        [[ $out == *"=>"* || $out == *ld-* ]]
    elif command -v readelf >/dev/null 2>&1; then
        readelf -l -- "$1" 2>/dev/null | grep -q 'INTERP'
    else
        return 1
    fi
}

# collect_libs FILE: add the shared libraries (and loader) FILE needs, as
# reported by ldd, to the libs array.
declare -A seen_lib=()
libs=()
collect_libs() {
    local out line p
    out=$(ldd -- "$1" 2>/dev/null) || return 0   # static binary or script
    while read -r line; do
        p=
        case $line in
            *"=> not found"*) warn "${1##*/}: shared library ${line%% *} not found on the host" ;;
            *"=> /"*) p=${line#*=> } ;;
            /*) p=$line ;;
        esac
        [[ -n $p ]] || continue
        p=${p%% (0x*}
        if [[ -z ${seen_lib[$p]-} ]]; then
            seen_lib[$p]=1
            libs+=("$p")
        fi
    done <<<"$out"
}

install_libs() {
    local lib libc_dir='' extra
    for lib in "${libs[@]}"; do
        [[ ${lib##*/} != libc.so.* ]] || libc_dir=${lib%/*}
    done
    # glibc < 2.34 loads the NSS "files"/"dns" back ends with dlopen(), which
    # ldd cannot see; newer glibc has them built in (the .so files are stubs).
    if [[ -n $libc_dir ]]; then
        for extra in libnss_files.so.2 libnss_dns.so.2; do
            if [[ -f $libc_dir/$extra && -z ${seen_lib[$libc_dir/$extra]-} ]]; then
                seen_lib[$libc_dir/$extra]=1
                libs+=("$libc_dir/$extra")
                collect_libs "$libc_dir/$extra"
            fi
        done
    fi
    for lib in "${libs[@]}"; do
        [[ -f $lib ]] || { warn "shared library $lib not found on the host"; continue; }
        if [[ -x $lib ]]; then
            install_file "$lib" "${lib#/}" 0755
        else
            install_file "$lib" "${lib#/}" 0644
        fi
    done
}

# ---------------------------------------------------------------- source

busybox=
if [[ -v BUSYBOX ]]; then
    if [[ -n $BUSYBOX ]]; then
        if [[ $BUSYBOX == */* ]]; then
            busybox=$BUSYBOX
        else
            busybox=$(command -v -- "$BUSYBOX") || die "BUSYBOX=$BUSYBOX: not found"
        fi
        [[ -f $busybox && -x $busybox ]] || die "BUSYBOX=$BUSYBOX: not an executable file"
    fi
elif find_cmd busybox; then
    busybox=$found
fi

applets=
applet_dir=''                                   # prefix for `--list` output
if [[ -n $busybox ]]; then
    if ! applets=$("$busybox" --list-full 2>/dev/null) || [[ -z $applets ]]; then
        # Old builds without --list-full: put every applet in /bin.
        if applets=$("$busybox" --list 2>/dev/null) && [[ -n $applets ]]; then
            applet_dir=bin/
        elif [[ -v BUSYBOX ]]; then
            die "$busybox does not list its applets (--list-full)"
        else
            warn "$busybox does not list its applets, using host binaries instead"
            busybox=
        fi
    fi
fi

if [[ -n $busybox ]]; then
    if is_dynamic "$busybox"; then
        src_desc="busybox ($busybox, dynamically linked)"
    else
        src_desc="busybox ($busybox)"
    fi
else
    command -v ldd >/dev/null 2>&1 || die "no busybox and no ldd on the host: cannot build a rootfs"
    find_cmd sh || die "no busybox and no sh on the host (looked in ${SEARCH_DIRS[*]})"
    src_desc="host binaries"
fi

mkdir -p -- "$DEST" || die "cannot create $DEST"
ROOT=$(cd -- "$DEST" && pwd -P) || die "cannot enter $DEST"
[[ $ROOT != / ]] || die "refusing to build a rootfs in /"
# Not writable (e.g. built earlier with sudo) is fine as long as it is up to
# date; otherwise the first write fails with its own message.

# Stale temporary files from an interrupted run.
find "$ROOT" -xdev -name '.mkrootfs-tmp.*' -exec rm -f -- {} + 2>/dev/null || true

# ---------------------------------------------------------------- flavor

flavor=host
[[ -z $busybox ]] || flavor=busybox
FLAVOR_FILE=$ROOT/.mkrootfs-flavor
built=
if [[ -f $FLAVOR_FILE ]]; then
    built=$(<"$FLAVOR_FILE")
elif grep -qx 'ID=docker-run-rootfs' "$ROOT/etc/os-release" 2>/dev/null; then
    # Built by a version of this script that did not record the flavor.
    if [[ -e $ROOT/bin/busybox || -L $ROOT/bin/busybox ]]; then built=busybox; else built=host; fi
fi
if [[ -n $built && $built != "$flavor" ]]; then
    info "$DEST was built from ${built/host/host binaries}; rebuilding it from scratch from $src_desc"
    # Only a tree this script built (recorded above) is emptied; -xdev keeps out of mounts.
    find "$ROOT" -xdev -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} + ||
        die "cannot empty $DEST"
    changed
fi
if [[ $built != "$flavor" || ! -f $FLAVOR_FILE ]]; then
    # Recorded before anything is installed: an interrupted rebuild is completed, not mixed.
    printf '%s\n' "$flavor" >"$FLAVOR_FILE" || die "cannot write $FLAVOR_FILE"
fi

# ---------------------------------------------------------------- layout

for d in usr usr/bin usr/sbin usr/lib usr/lib64; do
    check_parent "$d/x"
    if [[ ! -d $ROOT/$d ]]; then
        changed
        mkdir -p -- "$ROOT/$d"
    fi
done
for d in bin sbin lib lib64; do
    if [[ -L $ROOT/$d ]]; then
        check_parent "$d/x"                      # must stay inside DEST
    elif [[ -d $ROOT/$d ]]; then
        :                                        # split /usr layout: keep it
    elif [[ -e $ROOT/$d ]]; then
        die "$DEST/$d exists and is not a directory"
    else
        changed
        ln -s -- "usr/$d" "$ROOT/$d"
    fi
done

# directory:mode
dirs=(usr:755 usr/bin:755 usr/sbin:755 usr/lib:755 usr/lib64:755
      etc:755 root:700 home:755 home/user:755 proc:555 sys:555 dev:755
      run:755 tmp:1777 var:755 var/tmp:1777)
paths=()
for entry in "${dirs[@]}"; do
    d=${entry%:*}
    check_parent "$d/x"
    if [[ ! -d $ROOT/$d ]]; then
        [[ ! -e $ROOT/$d && ! -L $ROOT/$d ]] || die "$DEST/$d exists and is not a directory"
        changed
        mkdir -p -- "$ROOT/$d"
    fi
    paths+=("$ROOT/$d")
done
mapfile -t modes < <(stat -c %a -- "${paths[@]}")
for i in "${!dirs[@]}"; do
    want=${dirs[$i]#*:}
    if [[ ${modes[$i]} != "$want" ]]; then
        changed
        chmod "$want" -- "${paths[$i]}"
    fi
done

# ---------------------------------------------------------------- binaries

if [[ -n $busybox ]]; then
    install_file "$busybox" bin/busybox 0755
    if is_dynamic "$busybox"; then
        collect_libs "$busybox"
        install_libs
    fi
    # One relative symlink per applet (like `busybox --install -s`, without
    # /proc and without replacing anything already there). Relative, so the
    # links also resolve from the host.
    while read -r rel; do
        rel=${rel#/}
        [[ -n $rel && $rel != */ && ${rel##*/} != busybox ]] || continue
        rel=$applet_dir$rel
        up=${rel//[!\/]/}                        # one "/" per directory level
        add_symlink "$rel" "${up//\//../}bin/busybox"
    done <<<"$applets"
else
    required=(sh ls cat echo ps hostname mount ip sleep true false env id mkdir rm head dd)
    optional=(ping bash grep sed awk tr wc kill touch ln cp mv chmod stat uname df tail cut
              sort umount mknod dmesg which printf seq timeout nproc date tty stty getent)
    # Without ip, fall back to ifconfig (net-tools).
    if ! find_cmd ip && find_cmd ifconfig; then
        for i in "${!required[@]}"; do
            [[ ${required[$i]} != ip ]] || required[i]=ifconfig
        done
    fi
    missing_optional=()
    scripts=()
    for name in "${required[@]}" "${optional[@]}"; do
        if ! find_cmd "$name"; then
            if [[ " ${optional[*]} " == *" $name "* ]]; then
                missing_optional+=("$name")
            else
                warn "$name not found on the host, not in the rootfs"
            fi
            continue
        fi
        case ${found%/*} in
            */sbin) rel=sbin/$name ;;
            *) rel=bin/$name ;;
        esac
        magic=
        read -r -n 2 magic <"$found" 2>/dev/null || true
        if [[ $magic == '#!' ]]; then
            IFS= read -r line <"$found" || true
            interp=${line#\#!}
            interp=${interp#"${interp%%[! ]*}"}
            scripts+=("$name:${interp%% *}")
        fi
        install_file "$found" "$rel" 0755
        collect_libs "$found"
    done
    install_libs
    if ((${#missing_optional[@]})); then
        info "not on the host, skipped: ${missing_optional[*]}"
    fi
    for s in ${scripts[@]+"${scripts[@]}"}; do
        interp=${s#*:}
        if [[ $interp == /* && ! -e $ROOT$interp ]]; then
            warn "${s%%:*} is a script for $interp, which is not in the rootfs"
        fi
    done
fi

# ---------------------------------------------------------------- /etc

write_file etc/passwd 0644 'root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
'
write_file etc/group 0644 'root:x:0:
tty:x:5:
users:x:100:user
nogroup:x:65534:
user:x:1000:
'
write_file etc/hostname 0644 'container
'
write_file etc/hosts 0644 '127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
'
write_file etc/resolv.conf 0644 ''
write_file etc/nsswitch.conf 0644 'passwd:    files
group:     files
shadow:    files
hosts:     files dns
networks:  files
protocols: files
services:  files
'
write_file etc/os-release 0644 'NAME="docker-run default rootfs"
PRETTY_NAME="docker-run default rootfs"
ID=docker-run-rootfs
'

# ---------------------------------------------------------------- check

[[ -x $ROOT/bin/sh ]] || die "$DEST/bin/sh is missing or not executable"
if [[ $(id -u) -eq 0 ]] && command -v chroot >/dev/null 2>&1; then
    chroot "$ROOT" /bin/sh -c true || die "sanity check failed: chroot $DEST /bin/sh -c true"
fi

if ((nchanged == 0)); then
    info "$DEST is up to date ($src_desc)"
else
    info "$DEST ready ($nchanged changes)"
fi
