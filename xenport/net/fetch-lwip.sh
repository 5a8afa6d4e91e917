#!/usr/bin/env bash
# Fetch lwIP's C sources from Debian's source package `lwip`, by package name,
# into DEST (default build/lwip), with apt-get source and a private source list
# under build/: the machine's apt configuration is neither read nor changed, and
# nothing is vendored into the repository.
#
#   xenport/net/fetch-lwip.sh [DEST]
#
# LWIP_MIRROR (http://deb.debian.org/debian) and LWIP_SUITE (this machine's
# Debian release) choose where from; the version must be 2.1.x.
set -euo pipefail

dest=${1:-build/lwip}
mirror=${LWIP_MIRROR:-http://deb.debian.org/debian}
suite=${LWIP_SUITE:-$( . /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
suite=${suite:-bookworm}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if [ -f "$dest/src/core/tcp.c" ] && [ -f "$dest/.fetched" ]; then
    exit 0
fi
for tool in apt-get dpkg-source; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch-lwip: $tool is missing (Debian: apt-get install apt dpkg-dev)" >&2
        exit 1
    fi
done

work=$(dirname "$dest")/apt-lwip
rm -rf "$work"
mkdir -p "$work/etc" "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
signed=
[ -f "$keyring" ] && signed="[signed-by=$keyring] "
echo "deb-src ${signed}$mirror $suite main" > "$work/etc/sources.list"

apt=(apt-get -q -o "Dir::Etc::SourceList=$(cd "$work" && pwd)/etc/sources.list"
     -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$(cd "$work" && pwd)/lists"
     -o "Dir::Cache=$(cd "$work" && pwd)/cache"
     -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "fetch-lwip: apt-get source lwip ($mirror $suite) into $dest"
"${apt[@]}" update >"$work/update.log" 2>&1 || {
    cat "$work/update.log" >&2
    echo "fetch-lwip: apt-get update of the private source list failed" >&2
    exit 1
}
( cd "$work/src" && "${apt[@]}" source lwip ) >"$work/source.log" 2>&1 || {
    cat "$work/source.log" >&2
    echo "fetch-lwip: apt-get source lwip failed" >&2
    exit 1
}
tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -n 1)
if [ -z "$tree" ] || [ ! -f "$tree/src/core/tcp.c" ]; then
    echo "fetch-lwip: no lwIP tree in what apt-get source unpacked" >&2
    exit 1
fi
version=$(tr -d '\r' <"$tree/src/include/lwip/init.h" |
          awk '$1 == "#define" && $2 ~ /^LWIP_VERSION_(MAJOR|MINOR|REVISION)$/ {v = v (v == "" ? "" : ".") $3}
               END {print v}')
case "$version" in
    2.1.*) ;;
    *) echo "fetch-lwip: lwIP $version from $suite; xenport's port is for 2.1.x" >&2; exit 1 ;;
esac
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tree" "$dest"
echo "$version $(basename "$(ls "$work"/src/*.dsc)")" > "$dest/.fetched"
rm -rf "$work"
echo "fetch-lwip: lwIP $version ready in $dest"
