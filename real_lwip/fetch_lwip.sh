#!/bin/sh
# fetch_lwip.sh DEST — fetch Debian's source package `lwip` (lwIP 2.1.3 plus
# Debian's patch series, which adds the POSIX port under port/) and unpack it
# into DEST.
#
# The machine's apt configuration is never modified: the script derives a
# private deb822 sources file (Types: deb-src) from the Debian entries of
# /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list), and points
# apt-get at a private state directory (lists, cache) under DEST.work/.
#
# Idempotent: when DEST/.lwbench-unpacked exists the tree is already there and
# the script does nothing. Exits non-zero with a message on stderr on failure,
# leaving no half-unpacked DEST behind.
#
# Needs: apt-get (apt), dpkg-source (dpkg-dev), xz-utils; network access to the
# Debian mirror that the machine's own sources list names.
set -eu

die() { echo "fetch_lwip.sh: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch_lwip.sh <dest-dir>"
dest=$1
case $dest in /*) ;; *) dest=$(pwd)/$dest ;; esac
stamp=$dest/.lwbench-unpacked

if [ -f "$stamp" ]; then
    echo "fetch_lwip.sh: $dest already unpacked ($(cat "$stamp"))" >&2
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found (this needs a Debian system)"
command -v dpkg-source >/dev/null 2>&1 || die "dpkg-source not found: install the Debian package dpkg-dev"

work=$dest.work
apt_dir=$work/apt
dl_dir=$work/download
rm -rf "$work"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dl_dir"

# --- private sources list: the machine's Debian entries, as deb-src ----------
src_list=$apt_dir/sources.list.d/lwbench-debian-src.sources
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822 stanzas: keep stanzas whose URIs are Debian archives, switch their
    # Types to deb-src. Stanzas are separated by blank lines.
    awk '
        function flush() {
            if (n > 0 && debian) { for (i = 1; i <= n; i++) print lines[i]; print "" }
            n = 0; debian = 0
        }
        /^[[:space:]]*$/ { flush(); next }
        {
            line = $0
            if (line ~ /^Types:/) line = "Types: deb-src"
            if (line ~ /^URIs:/ && line ~ /debian/) debian = 1
            lines[++n] = line
        }
        END { flush() }
    ' /etc/apt/sources.list.d/debian.sources > "$src_list"
elif [ -f /etc/apt/sources.list ]; then
    # one-line format: turn "deb URI SUITE COMPONENTS" for Debian URIs into deb-src.
    src_list=$apt_dir/sources.list.d/lwbench-debian-src.list
    grep -E '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list | grep debian \
        | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' > "$src_list" || true
fi
[ -s "$src_list" ] || die "found no Debian entries in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"

apt_opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt_dir/sources.list.d \
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache -o Debug::NoLocking=1 \
 -o APT::Sandbox::User=root -o Acquire::Retries=1 -o Acquire::http::Timeout=30 -q"

echo "fetch_lwip.sh: apt-get update (private state in $apt_dir)" >&2
# shellcheck disable=SC2086
apt-get $apt_opts update >"$work/update.log" 2>&1 \
    || { cat "$work/update.log" >&2; die "apt-get update of the private deb-src list failed (no network or mirror?)"; }

echo "fetch_lwip.sh: apt-get source --download-only lwip" >&2
# shellcheck disable=SC2086
(cd "$dl_dir" && apt-get $apt_opts source --download-only lwip) >"$work/source.log" 2>&1 \
    || { cat "$work/source.log" >&2; die "apt-get source --download-only lwip failed"; }

dsc=$(ls "$dl_dir"/lwip_*.dsc 2>/dev/null | head -n 1)
[ -n "$dsc" ] || die "no lwip_*.dsc was downloaded into $dl_dir"

# --- unpack and apply Debian's patch series ----------------------------------
tmp_dest=$dest.tmp
rm -rf "$tmp_dest"
echo "fetch_lwip.sh: dpkg-source -x $(basename "$dsc")" >&2
dpkg-source --no-check --no-copy -x "$dsc" "$tmp_dest" >"$work/unpack.log" 2>&1 \
    || { cat "$work/unpack.log" >&2; die "dpkg-source -x failed"; }
[ -f "$tmp_dest/src/include/lwip/init.h" ] || die "unpacked tree has no src/include/lwip/init.h"
[ -f "$tmp_dest/port/sys_arch.c" ] || die "unpacked tree has no port/sys_arch.c (Debian patch series not applied?)"

rm -rf "$dest"
mv "$tmp_dest" "$dest"
basename "$dsc" > "$stamp"
rm -rf "$work"
echo "fetch_lwip.sh: unpacked $(cat "$stamp") into $dest" >&2
