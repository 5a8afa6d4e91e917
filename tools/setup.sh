#!/usr/bin/env bash
# Set up a machine for CogXen; called by `make setup` (both steps) and `make venv`.
#   tools/setup.sh debs   install missing Debian packages (as root only)
#   tools/setup.sh venv   create/refresh .venv27 (Python 2.7 + requirements-dev.txt)
#   tools/setup.sh        both
# Environment: DEB_REQUIRED, DEB_OPTIONAL (package lists, set by the Makefile),
# VENV (default .venv27), REQUIREMENTS (default requirements-dev.txt), PYTHON2,
# SETUP_QUIET (non-empty: say nothing when the venv is already up to date).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv27}
REQUIREMENTS=${REQUIREMENTS:-requirements-dev.txt}
DEB_REQUIRED=${DEB_REQUIRED:-gcc make libffi-dev pkg-config}
DEB_OPTIONAL=${DEB_OPTIONAL:-}
STAMP="$VENV/.cogxen-setup"

say()  { echo "setup: $*"; }
warn() { echo "setup: warning: $*" >&2; }
die()  { echo "setup: error: $*" >&2; exit 1; }

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

has_candidate() {  # (no pipe into grep -q: under pipefail its early exit fails the pipe)
    local policy
    policy=$(apt-cache policy "$1" 2>/dev/null) || return 1
    [[ $policy == *"Candidate: "[!\(]* ]]
}

apt_install() {  # apt_install PKG... ; quiet unless it fails
    local log rc=0
    log=$(mktemp)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        </dev/null >"$log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || tail -n 30 "$log" >&2
    rm -f "$log"
    return $rc
}

setup_debs() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        warn "not a Debian system; install by hand: $DEB_REQUIRED (later: $DEB_OPTIONAL)"
        return 0
    fi
    local p req=() opt=()
    for p in $DEB_REQUIRED; do is_installed "$p" || req+=("$p"); done
    for p in $DEB_OPTIONAL; do is_installed "$p" || opt+=("$p"); done
    local missing="${req[*]-} ${opt[*]-}"
    missing=$(echo $missing)  # trim
    if [ -z "$missing" ]; then
        say "Debian packages present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        warn "missing Debian packages: $missing (not root; run: sudo apt-get install $missing)"
        return 0
    fi
    say "apt-get update (missing: $missing)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null \
        || warn "apt-get update failed; trying with the package lists at hand"
    local ok_req=() ok_opt=()
    for p in "${req[@]}"; do
        has_candidate "$p" || die "required Debian package $p is not installable (apt-cache policy $p)"
        ok_req+=("$p")
    done
    for p in "${opt[@]}"; do
        if has_candidate "$p"; then ok_opt+=("$p")
        else warn "optional Debian package $p is not installable; skipped"
        fi
    done
    if [ ${#ok_req[@]} -gt 0 ]; then
        say "apt-get install ${ok_req[*]}"
        apt_install "${ok_req[@]}" || die "apt-get install ${ok_req[*]} failed"
    fi
    if [ ${#ok_opt[@]} -gt 0 ]; then
        say "apt-get install ${ok_opt[*]}"
        apt_install "${ok_opt[@]}" || warn "apt-get install ${ok_opt[*]} failed (optional; continuing)"
    fi
}

venv_ok() {  # the venv's python runs, is 2.7, and was set up for these requirements
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (2, 7))' \
            </dev/null >/dev/null 2>&1
}

setup_venv() {
    [ -f "$REQUIREMENTS" ] || die "$REQUIREMENTS not found"
    local key
    key=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
    if venv_ok && [ "$(cat "$STAMP" 2>/dev/null)" = "$key" ]; then
        [ -n "${SETUP_QUIET:-}" ] ||
            say "$VENV up to date ($("$VENV/bin/python" -c 'import platform; print(platform.python_implementation() + " " + platform.python_version())'))"
        return 0
    fi
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_NO_WARN_SCRIPT_LOCATION=1
    if ! venv_ok; then
        local py
        py=$(bash tools/find-python2.sh) || exit 1   # its one-line message is already printed
        say "creating $VENV with $py"
        rm -rf "$VENV"
        if ! "$py" -m virtualenv --version </dev/null >/dev/null 2>&1; then
            "$py" -m pip install -q 'virtualenv<20.22' </dev/null \
                || "$py" -m pip install -q --user 'virtualenv<20.22' </dev/null \
                || die "cannot install virtualenv for $py (needs pip: $py -m ensurepip)"
        fi
        "$py" -m virtualenv -q "$VENV" </dev/null || die "virtualenv $VENV failed"
    fi
    say "installing $REQUIREMENTS into $VENV"
    # On success pip's output is only warnings (Python 2.7 deprecation; "rpython
    # 0.2.1 requires pytest<3", which is harmless), so it is shown on failure only.
    local log rc=0
    log=$(mktemp)
    "$VENV/bin/pip" install -q -r "$REQUIREMENTS" </dev/null >"$log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || cat "$log" >&2
    rm -f "$log"
    [ $rc -eq 0 ] || die "pip install -r $REQUIREMENTS failed"
    "$VENV/bin/python" -c 'import rpython, pytest, py' </dev/null \
        || die "$VENV is missing rpython/pytest/py after pip install"
    echo "$key" > "$STAMP"
    say "$VENV ready"
}

case "${1:-all}" in
    debs) setup_debs ;;
    venv) setup_venv ;;
    all)  setup_debs; setup_venv ;;
    *)    die "usage: tools/setup.sh [debs|venv|all]" ;;
esac
