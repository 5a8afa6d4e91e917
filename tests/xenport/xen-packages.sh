#!/usr/bin/env bash
# tests/xenport/xen-packages.sh DEST: the Debian packages that `make xen-test`
# needs, downloaded with apt-get download into DEST/debs and unpacked (dpkg-deb
# -x) into DEST/root, whose path is printed.  Nothing is installed on the
# machine: no maintainer scripts, no services, no change to /boot.  Run when the
# packages are not installed; a second run reuses what is there.
set -euo pipefail
dest=$1
pkgs=(xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils busybox-static)
# The kernel package that linux-image-amd64 points at (the metapackage has no files).
kernel=$(apt-cache depends linux-image-amd64 2>/dev/null |
         awk '/Depends: linux-image-[0-9]/ { print $2; exit }') || true
if [ -z "$kernel" ]; then
    echo "xen-packages: apt knows no linux-image-amd64 (apt-get update first?)" >&2
    exit 1
fi
pkgs+=("$kernel")
mkdir -p "$dest/debs"
cd "$dest/debs"
missing=()
for p in "${pkgs[@]}"; do
    compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "xen-packages: apt-get download ${missing[*]} (into $dest/debs)" >&2
    if ! apt-get download "${missing[@]}" >&2; then
        echo "xen-packages: apt-get download failed" >&2
        exit 1
    fi
fi
cd ..
stamp=root/.unpacked
if [ ! -f "$stamp" ] || [ -n "$(find debs -name '*.deb' -newer "$stamp")" ]; then
    rm -rf root.tmp
    mkdir root.tmp
    for d in debs/*.deb; do
        dpkg-deb -x "$d" root.tmp
    done
    rm -rf root
    mv root.tmp root
    touch "$stamp"
fi
echo "$(pwd -P)/root"
