#!/usr/bin/env bash
# Print the path of a Python 2.7 interpreter (CPython or PyPy) to run RPython with.
# Order: $PYTHON2; python2.7, pypy, python2 on PATH; pyenv's 2.7 installs (newest first).
# Exits 1 with a one-line message on stderr when there is none.
set -uo pipefail

is_py27() {
    # A pyenv shim for a version that is not selected exits non-zero, so run it.
    "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (2, 7) else 1)' \
        </dev/null >/dev/null 2>&1
}

resolve() {
    # The interpreter's own path, not a shim or a relative name.
    "$1" -c 'import sys; print(sys.executable)' </dev/null 2>/dev/null
}

if [ -n "${PYTHON2:-}" ]; then
    if is_py27 "$PYTHON2"; then
        resolve "$PYTHON2"
        exit 0
    fi
    echo "error: PYTHON2=$PYTHON2 is not a working Python 2.7 interpreter" >&2
    exit 1
fi

for name in python2.7 pypy python2; do
    if command -v "$name" >/dev/null 2>&1 && is_py27 "$name"; then
        resolve "$name"
        exit 0
    fi
done

roots=()
if command -v pyenv >/dev/null 2>&1; then
    r=$(pyenv root 2>/dev/null) && [ -n "$r" ] && roots+=("$r")
fi
roots+=("${PYENV_ROOT:-$HOME/.pyenv}")
for root in "${roots[@]}"; do
    # Newest 2.7.x first (version sort), then any other 2.7* flavour.
    while IFS= read -r py; do
        if [ -x "$py" ] && is_py27 "$py"; then
            echo "$py"
            exit 0
        fi
    done < <(printf '%s\n' "$root"/versions/2.7*/bin/python | sort -rV)
done

echo "error: no Python 2.7 found (set PYTHON2=/path/to/python2.7, or install one, e.g. 'pyenv install 2.7.18')" >&2
exit 1
