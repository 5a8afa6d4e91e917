"""Compiling parts of xenport for the host, with a test driver: the parsers
that read what Xen hands the guest (xenstore replies, start_info) are pure C,
so the tests run them natively, with AddressSanitizer and UBSan when the
compiler has them, and feed them anything."""

import os
import subprocess

import pytest

from qemurun import REPO


def _compile(sources, out, sanitize):
    argv = ["gcc", "-std=gnu11", "-O1", "-g", "-Wall", "-Werror",
            "-iquote", os.path.join(REPO, "xenport")] + list(sources) + ["-o", out]
    if sanitize:
        argv[1:1] = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc.communicate()[0], proc.returncode


def build_driver(tmpdir_factory, name, xenport_sources, driver, needs_header):
    """The driver program linked with xenport's sources (paths under xenport/);
    skips the calling test when Xen's public header needs_header is missing."""
    if not os.path.isfile(needs_header):
        pytest.skip("Xen's public headers are not installed (libxen-dev)")
    out = str(tmpdir_factory.mktemp(name).join("driver"))
    sources = [os.path.join(REPO, "xenport", s) for s in xenport_sources] + [driver]
    log, rc = _compile(sources, out, True)
    if rc != 0:
        log, rc = _compile(sources, out, False)
    assert rc == 0, log
    return out
