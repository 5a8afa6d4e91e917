#!/usr/bin/env bash
# xenport/find-gen.sh VM USESSION_DIR: print the folder of the generated C that
# VM (build/cogxen) was compiled from, so that `make xen` links the same
# translation.  RPython builds the binary inside <usession>/testing_N/ and
# copies it to --output: the folder whose binary is byte-identical to VM is the
# one.  The newest usession ("-current") is tried first.
set -euo pipefail
vm=$1
usessions=$2
[ -f "$vm" ] || { echo "xenport: $vm not found: translate first (make translate)" >&2; exit 1; }
name=$(basename "$vm")
candidates=()
for d in "$usessions"/usession-*-current/testing_* "$usessions"/usession-*/testing_*; do
    [ -f "$d/Makefile" ] && [ -f "$d/$name" ] && candidates+=("$d")
done
for d in "${candidates[@]}"; do
    if cmp -s "$d/$name" "$vm"; then
        (cd "$d" && pwd -P)
        exit 0
    fi
done
echo "xenport: no generated C in $usessions matches $vm (${#candidates[@]} candidates);" \
     "re-translate (make translate) so that the usession and the binary agree" >&2
exit 1
